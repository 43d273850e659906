//! The warm Tesseracts: one engine per worker, each on a thread of its own, lent to one read at
//! a time and given back after it. A recognition that outlives the deadline is abandoned: its
//! engine is never lent again (the thread ends when the call does) and the next read gets a
//! fresh one, so a stuck call never holds up the pipeline.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use image::GrayImage;

use super::LocalError;
use super::ocr::{Engine, Mode, OcrChar, OcrLine};

type Job = (GrayImage, Mode);
type Answer = Result<Vec<OcrLine>, LocalError>;

/// What every engine is started with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub language: String,
    pub tessdata_dir: Option<PathBuf>,
    /// Longest one recognition may take.
    pub timeout: Duration,
}

/// Idle engines, ready to lend.
#[derive(Debug)]
pub struct Engines {
    config: EngineConfig,
    /// Engines not lent out; a read takes one (or starts one) and gives it back.
    idle: Mutex<Vec<Worker>>,
}

/// An engine's thread, reached through a pair of channels.
#[derive(Debug)]
struct Worker {
    /// Jobs for the engine; dropping it ends the thread after its current job.
    jobs: Option<Sender<Job>>,
    answers: Receiver<Answer>,
    /// Joined on drop, so the engine is torn down before the process exits (Tesseract
    /// complains about models still loaded at exit); taken (detached) from an abandoned one.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Lets the thread finish its stuck call on its own.
    fn abandon(mut self) {
        self.thread = None;
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Worker {
    /// Starts a thread and loads the model on it; answers once the engine is ready.
    fn start(config: &EngineConfig) -> Result<Worker, LocalError> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (answer_tx, answers) = mpsc::channel::<Answer>();
        let (language, dir) = (config.language.clone(), config.tessdata_dir.clone());
        let thread = std::thread::Builder::new()
            .name("tesseract".into())
            .spawn(move || {
                let mut engine = match Engine::new(&language, dir.as_deref()) {
                    Ok(engine) => {
                        let _ = answer_tx.send(Ok(Vec::new()));
                        engine
                    }
                    Err(e) => {
                        let _ = answer_tx.send(Err(e));
                        return;
                    }
                };
                for (img, mode) in job_rx {
                    if answer_tx.send(engine.recognise(&img, mode)).is_err() {
                        return;
                    }
                }
            })
            .map_err(LocalError::Io)?;
        // Loading a model takes a fraction of a second; a generous wait for a busy box.
        match answers.recv_timeout(config.timeout.max(Duration::from_secs(30))) {
            Ok(Ok(_)) => Ok(Worker {
                jobs: Some(jobs),
                answers,
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LocalError::Failed(
                "the Tesseract engine did not start".into(),
            )),
        }
    }
}

impl Engines {
    /// Starts one engine now, so a missing model is a start-up error.
    pub fn new(config: EngineConfig) -> Result<Engines, LocalError> {
        let first = Worker::start(&config)?;
        Ok(Engines {
            config,
            idle: Mutex::new(vec![first]),
        })
    }

    /// An engine for one read: an idle one, or a new one.
    pub fn lend(&self) -> Result<Lease<'_>, LocalError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let worker = match idle {
            Some(w) => w,
            None => Worker::start(&self.config)?,
        };
        Ok(Lease {
            engines: self,
            worker: Some(worker),
        })
    }
}

/// An engine lent to one read; given back when dropped, unless a call on it was abandoned.
#[derive(Debug)]
pub struct Lease<'a> {
    engines: &'a Engines,
    worker: Option<Worker>,
}

impl Lease<'_> {
    /// Recognises `img` as `mode` within the deadline.
    pub fn recognise(&mut self, img: GrayImage, mode: Mode) -> Answer {
        let timeout = self.engines.config.timeout;
        let Some(worker) = &self.worker else {
            return Err(LocalError::Timeout(timeout));
        };
        let sent = worker
            .jobs
            .as_ref()
            .is_some_and(|j| j.send((img, mode)).is_ok());
        let answer = if sent {
            worker.answers.recv_timeout(timeout)
        } else {
            Err(RecvTimeoutError::Disconnected)
        };
        match answer {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => {
                // The engine is still busy with the call: never lend it again.
                if let Some(worker) = self.worker.take() {
                    worker.abandon();
                }
                Err(LocalError::Timeout(timeout))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                Err(LocalError::Failed("the Tesseract engine stopped".into()))
            }
        }
    }

    /// Reads `img` as a block of lines.
    pub fn read_lines(&mut self, img: GrayImage) -> Answer {
        self.recognise(img, Mode::Lines)
    }

    /// Reads `img` as one character.
    pub fn read_char(&mut self, img: GrayImage) -> Result<Option<OcrChar>, LocalError> {
        let lines = self.recognise(img, Mode::Char)?;
        Ok(lines.into_iter().flat_map(|l| l.chars).next())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let (Some(worker), Ok(mut idle)) = (self.worker.take(), self.engines.idle.lock()) {
            idle.push(worker);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recognition_past_its_deadline_is_abandoned_and_its_engine_replaced() {
        let engines = Engines::new(EngineConfig {
            language: "eng".into(),
            tessdata_dir: None,
            timeout: Duration::from_millis(1),
        })
        .expect("tesseract-ocr-eng is installed");
        // A whole large card takes Tesseract far longer than a millisecond, and longer than
        // this thread may wait to be scheduled again between sending the job and waiting for
        // its answer on a busy box (a 1000x700 card was sometimes answered by then).
        let jpeg = crate::cli::demo::demo_image(3000, 2100, 3);
        let card = image::load_from_memory(&jpeg).expect("decode").to_luma8();
        let mut lease = engines.lend().expect("an engine");
        let err = lease.read_lines(card).expect_err("too slow");
        assert!(matches!(err, LocalError::Timeout(_)), "{err:?}");
        drop(lease);
        assert!(
            engines.idle.lock().expect("lock").is_empty(),
            "the busy engine is not lent again"
        );
        // The next read gets a fresh engine, started (its model loaded) and ready.
        let lease = engines.lend().expect("a fresh engine");
        assert!(lease.worker.is_some());
    }
}
