//! Tesseract as a child process: owns the command line (`OMP_THREAD_LIMIT=1`, the MRZ character
//! whitelist, the configured language), the start-up probe, the deadline on each call (a hung
//! Tesseract is killed, never waited on forever), and the parsing of its hOCR output into lines
//! of characters with a confidence each.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::LocalError;

/// The 37 characters an MRZ may hold.
pub const MRZ_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";

/// How to call Tesseract.
#[derive(Debug, Clone)]
pub struct Tesseract {
    /// Program name on `PATH`, or a path.
    pub program: String,
    /// `-l` argument, e.g. `eng`.
    pub language: String,
    /// `--tessdata-dir`, when the model lives outside Tesseract's own folder.
    pub tessdata_dir: Option<PathBuf>,
    /// Longest one call may take before the process is killed.
    pub timeout: Duration,
}

/// One character as Tesseract read it.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrChar {
    pub ch: char,
    /// 0.0 ..= 1.0.
    pub confidence: f32,
    /// Box (x0, y0, x1, y1) in pixels of the image Tesseract saw.
    pub bbox: (u32, u32, u32, u32),
}

/// One text line, characters left to right (spaces dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcrLine {
    pub chars: Vec<OcrChar>,
}

impl OcrLine {
    /// The line's text.
    pub fn text(&self) -> String {
        self.chars.iter().map(|c| c.ch).collect()
    }
}

impl Tesseract {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        // OpenMP threads thrash on a shared box; parallelism comes from running several calls.
        cmd.env("OMP_THREAD_LIMIT", "1");
        if let Some(dir) = &self.tessdata_dir {
            cmd.arg("--tessdata-dir").arg(dir);
        }
        cmd
    }

    /// Checks at start-up that the binary runs and the language is installed.
    pub fn probe(&self) -> Result<String, LocalError> {
        let out = self
            .command()
            .arg("--list-langs")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| LocalError::Missing {
                program: self.program.clone(),
                source,
            })?;
        let listed = String::from_utf8_lossy(&out.stdout);
        if !listed.lines().any(|l| l.trim() == self.language) {
            return Err(LocalError::Language {
                language: self.language.clone(),
                installed: listed
                    .lines()
                    .skip(1)
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let version = self
            .command()
            .arg("--version")
            .output()
            .map(|o| {
                let text = [o.stdout, o.stderr].concat();
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default();
        Ok(version)
    }

    /// Reads a PNG image of a straightened zone as a block of text (`--psm 6`), restricted to
    /// the MRZ alphabet.
    pub fn read_lines(&self, png: &[u8]) -> Result<Vec<OcrLine>, LocalError> {
        self.run(png, "6")
    }

    /// Reads a PNG image of a single character (`--psm 10`), restricted to the MRZ alphabet.
    pub fn read_char(&self, png: &[u8]) -> Result<Option<OcrChar>, LocalError> {
        let lines = self.run(png, "10")?;
        Ok(lines.into_iter().flat_map(|l| l.chars).next())
    }

    fn run(&self, png: &[u8], psm: &str) -> Result<Vec<OcrLine>, LocalError> {
        let mut child = self
            .command()
            .args(["stdin", "stdout", "--psm", psm, "-l"])
            .arg(&self.language)
            .args(["-c", &format!("tessedit_char_whitelist={MRZ_ALPHABET}")])
            .args(["-c", "hocr_char_boxes=1", "hocr"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| LocalError::Missing {
                program: self.program.clone(),
                source,
            })?;
        let mut stdin = child.stdin.take().ok_or(LocalError::Pipe)?;
        let input = png.to_vec();
        // Pipes are fed and drained on their own threads so a full pipe never deadlocks the
        // wait; they end when the process exits or is killed.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_until(&mut child, Instant::now() + self.timeout);
        let _ = writer.join();
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        match status {
            Ok(Some(status)) if status.success() => {
                Ok(parse_hocr(&String::from_utf8_lossy(&stdout)))
            }
            Ok(Some(_)) => Err(LocalError::Failed(
                String::from_utf8_lossy(&stderr).trim().to_string(),
            )),
            Ok(None) => Err(LocalError::Timeout(self.timeout)),
            Err(e) => Err(LocalError::Io(e)),
        }
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut out);
        }
        out
    })
}

/// Waits for `child` until `deadline`; past it, kills and reaps it and answers `None`.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(10));
    }
}

/// Lines of characters from Tesseract's hOCR (`hocr_char_boxes=1`): each `ocr_line` span holds
/// `ocrx_cinfo` spans titled `x_bboxes X0 Y0 X1 Y1; x_conf C`.
pub fn parse_hocr(hocr: &str) -> Vec<OcrLine> {
    let mut lines: Vec<OcrLine> = Vec::new();
    let mut rest = hocr;
    while let Some(at) = rest.find("class='ocr") {
        rest = &rest[at + "class='".len()..];
        if rest.starts_with("ocr_line") || rest.starts_with("ocr_textfloat") {
            lines.push(OcrLine::default());
            continue;
        }
        if !rest.starts_with("ocrx_cinfo") {
            continue;
        }
        let Some(title_at) = rest.find("title='") else {
            break;
        };
        let title = &rest[title_at + 7..];
        let title_end = title.find('\'').unwrap_or(0);
        let (bbox, confidence) = parse_title(&title[..title_end]);
        let body = &title[title_end..];
        let text = body
            .find('>')
            .and_then(|open| {
                body[open + 1..]
                    .find("</span>")
                    .map(|e| &body[open + 1..open + 1 + e])
            })
            .unwrap_or_default();
        let ch = unescape(text);
        if let (Some(line), Some(ch)) = (lines.last_mut(), ch)
            && !ch.is_whitespace()
        {
            line.chars.push(OcrChar {
                ch,
                confidence,
                bbox,
            });
        }
    }
    lines.retain(|l| !l.chars.is_empty());
    lines
}

fn parse_title(title: &str) -> ((u32, u32, u32, u32), f32) {
    let mut bbox = (0, 0, 0, 0);
    let mut conf = 0.0;
    for part in title.split(';') {
        let mut words = part.split_whitespace();
        match words.next() {
            Some("x_bboxes") => {
                let v: Vec<u32> = words.filter_map(|v| v.parse().ok()).collect();
                if let [x0, y0, x1, y1] = v[..] {
                    bbox = (x0, y0, x1, y1);
                }
            }
            Some("x_conf") => {
                conf = words
                    .next()
                    .and_then(|v| v.parse::<f32>().ok())
                    .unwrap_or(0.0)
            }
            _ => {}
        }
    }
    (bbox, (conf / 100.0).clamp(0.0, 1.0))
}

fn unescape(text: &str) -> Option<char> {
    match text {
        "&lt;" => Some('<'),
        "&gt;" => Some('>'),
        "&amp;" => Some('&'),
        "&quot;" => Some('"'),
        "&#39;" => Some('\''),
        other => other.chars().next(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocr_lines_and_character_confidences_are_parsed() {
        let hocr = "<span class='ocr_line' id='line_1_1' title='bbox 1 2 3 4'>\
            <span class='ocrx_word' title='bbox 1 2 3 4; x_wconf 90'>\
            <span class='ocrx_cinfo' title='x_bboxes 10 2 20 30; x_conf 98.5'>P</span>\
            <span class='ocrx_cinfo' title='x_bboxes 22 2 30 30; x_conf 40'>&lt;</span>\
            </span></span>\
            <span class='ocr_line' id='line_1_2' title='bbox 1 2 3 4'>\
            <span class='ocrx_cinfo' title='x_bboxes 5 40 9 60; x_conf 70'>L</span></span>";
        let lines = parse_hocr(hocr);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text(), "P<");
        assert!((lines[0].chars[0].confidence - 0.985).abs() < 1e-4);
        assert_eq!(lines[0].chars[1].bbox, (22, 2, 30, 30));
        assert_eq!(lines[1].text(), "L");
    }
}
