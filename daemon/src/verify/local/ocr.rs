//! Tesseract linked in-process (libtesseract, through `tesseract-plumbing`): owns the engine
//! (the configured language, the MRZ character whitelist, no inverted-image retry), the
//! recognition of a grey image as lines (`--psm 6`) or one character (`--psm 10`) on one
//! thread (no OpenMP fan-out), and the parsing of its hOCR output (a real XML parser) into
//! lines of characters with a confidence and a box each. Each engine lives on a thread of its
//! own so a call that outlives its deadline can be abandoned (see `engines`).

use std::ffi::CString;
use std::path::{Path, PathBuf};

use image::GrayImage;
use tesseract_plumbing::TessBaseApi;
use tesseract_plumbing::tesseract_sys::{
    TessPageSegMode_PSM_SINGLE_BLOCK, TessPageSegMode_PSM_SINGLE_CHAR,
};

use super::LocalError;

/// The 37 characters an MRZ may hold.
pub const MRZ_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";

/// Where Debian's `tesseract-ocr-*` packages put their models (Tesseract's own default).
pub const DEBIAN_TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

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

/// What to recognise an image as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A block of lines of one size (`--psm 6`): a zone.
    Lines,
    /// One character (`--psm 10`): a cell read on its own.
    Char,
}

/// One warm Tesseract: the model is loaded once and reused for every call.
pub struct Engine {
    api: TessBaseApi,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Engine {
    /// Loads `language` (from `tessdata_dir`, else Tesseract's own folder) with the MRZ
    /// settings.
    pub fn new(language: &str, tessdata_dir: Option<&Path>) -> Result<Engine, LocalError> {
        let installed = installed_languages(tessdata_dir);
        let language_missing = || LocalError::Language {
            language: language.to_string(),
            installed: installed.join(", "),
        };
        // Tesseract would say so only on stderr: look for the models first.
        if !language
            .split('+')
            .all(|want| installed.iter().any(|l| l == want))
        {
            return Err(language_missing());
        }
        openmp::one_thread();
        let lang = CString::new(language).map_err(|_| language_missing())?;
        let dir = tessdata_dir
            .map(|d| CString::new(d.as_os_str().as_encoded_bytes()))
            .transpose()
            .map_err(|_| language_missing())?;
        let mut api = TessBaseApi::create();
        api.init_2(dir.as_deref(), Some(&lang))
            .map_err(|_| language_missing())?;
        let mut engine = Engine { api };
        engine.set("tessedit_char_whitelist", MRZ_ALPHABET)?;
        engine.set("hocr_char_boxes", "1")?;
        // An unsure line is otherwise read a second time, inverted (white on black): zones are
        // never printed so, and the retry doubles the time of every poor read.
        engine.set("tessedit_do_invert", "0")?;
        Ok(engine)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), LocalError> {
        let failed = || LocalError::Failed(format!("cannot set {name}"));
        let (n, v) = (
            CString::new(name).map_err(|_| failed())?,
            CString::new(value).map_err(|_| failed())?,
        );
        self.api.set_variable(&n, &v).map_err(|_| failed())
    }

    /// Recognises `img` (dark text on a light ground) as `mode`.
    pub fn recognise(&mut self, img: &GrayImage, mode: Mode) -> Result<Vec<OcrLine>, LocalError> {
        let (w, h) = img.dimensions();
        if w < 4 || h < 4 {
            return Ok(Vec::new());
        }
        let (w, h) = (
            i32::try_from(w).map_err(|_| LocalError::Failed("image too wide".into()))?,
            i32::try_from(h).map_err(|_| LocalError::Failed("image too high".into()))?,
        );
        self.api
            .set_image(img.as_raw(), w, h, 1, w)
            .map_err(|e| LocalError::Failed(e.to_string()))?;
        // Tesseract guesses a resolution from the text size otherwise, and says so on stderr.
        self.api.set_source_resolution(300);
        self.api.set_page_seg_mode(match mode {
            Mode::Lines => TessPageSegMode_PSM_SINGLE_BLOCK,
            Mode::Char => TessPageSegMode_PSM_SINGLE_CHAR,
        });
        self.api
            .recognize()
            .map_err(|e| LocalError::Failed(e.to_string()))?;
        let hocr = self
            .api
            .get_hocr_text(0)
            .map_err(|e| LocalError::Failed(e.to_string()))?;
        parse_hocr(&hocr.as_ref().to_string_lossy())
    }
}

/// OpenMP, which Debian's libtesseract is built with: parallel loops inside one recognition
/// thrash on a shared box (1.8 s instead of 0.6 s per page measured here); the reader runs
/// engines side by side instead. Setting the thread count is not enough: Tesseract's LSTM
/// asks for its teams with an explicit `num_threads(4)` clause, which overrides it, and the
/// team's threads spin and switch between every time step (in the daemon, 90% of the CPU of a
/// demo run went to libgomp's spinning and the kernel's context switches). No active parallel
/// level (`max-active-levels` 0) makes every region, whatever it asks for, run on the thread
/// that meets it.
mod openmp {
    use std::ffi::c_int;
    #[cfg(test)]
    use std::ffi::{c_uint, c_void};

    #[expect(
        unsafe_code,
        reason = "declares libgomp's settings and its parallel entry"
    )]
    #[link(name = "gomp")]
    unsafe extern "C" {
        fn omp_set_num_threads(n: c_int);
        fn omp_set_max_active_levels(levels: c_int);
        #[cfg(test)]
        fn omp_get_num_threads() -> c_int;
        /// What `#pragma omp parallel num_threads(n)` compiles to (GCC 4.9 and later).
        #[cfg(test)]
        fn GOMP_parallel(
            body: extern "C" fn(*mut c_void),
            data: *mut c_void,
            num_threads: c_uint,
            flags: c_uint,
        );
    }

    /// Keeps every OpenMP region Tesseract starts from the calling thread on that one thread,
    /// even one that names its own thread count.
    #[expect(unsafe_code, reason = "FFI to libgomp's settings")]
    pub fn one_thread() {
        // SAFETY: both set the calling thread's OpenMP control variables; no other state.
        unsafe {
            omp_set_num_threads(1);
            omp_set_max_active_levels(0);
        }
    }

    /// The team size a region asking for `wanted` threads gets on the calling thread.
    #[cfg(test)]
    #[expect(unsafe_code, reason = "runs a libgomp parallel region")]
    pub fn team_size(wanted: u32) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        extern "C" fn body(data: *mut c_void) {
            // SAFETY: `data` is the `AtomicUsize` below, alive until `GOMP_parallel` returns.
            let seen = unsafe { &*data.cast::<AtomicUsize>() };
            // SAFETY: asks the team size of the region running this body; no other state.
            let n = unsafe { omp_get_num_threads() };
            seen.fetch_max(usize::try_from(n).unwrap_or(0), Ordering::Relaxed);
        }
        let seen = AtomicUsize::new(0);
        // SAFETY: `body` only reads the atomic, which outlives the region (GOMP_parallel
        // returns once every thread of the team has finished it).
        unsafe {
            GOMP_parallel(body, std::ptr::from_ref(&seen).cast_mut().cast(), wanted, 0);
        }
        seen.into_inner()
    }
}

/// Tesseract's version, e.g. `5.3.0`.
pub fn version() -> String {
    tesseract_plumbing::version().to_string_lossy().into_owned()
}

/// Languages with a `.traineddata` model in `dir` (else Tesseract's default folder, or
/// `TESSDATA_PREFIX`).
pub fn installed_languages(dir: Option<&Path>) -> Vec<String> {
    let dir: PathBuf = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::var_os("TESSDATA_PREFIX")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEBIAN_TESSDATA)),
    };
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".traineddata"))
                .map(str::to_string)
        })
        .collect();
    out.sort();
    out
}

/// Lines of characters from Tesseract's hOCR (`hocr_char_boxes=1`), read with an XML parser:
/// each `ocr_line` (or `ocr_textfloat`, `ocr_header`, `ocr_caption`) holds `ocrx_cinfo` spans
/// titled `x_bboxes X0 Y0 X1 Y1; x_conf C`.
pub fn parse_hocr(hocr: &str) -> Result<Vec<OcrLine>, LocalError> {
    let doc = roxmltree::Document::parse(hocr)
        .map_err(|e| LocalError::Failed(format!("Tesseract's hOCR does not parse: {e}")))?;
    let mut lines: Vec<OcrLine> = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        match node.attribute("class") {
            Some("ocr_line" | "ocr_textfloat" | "ocr_header" | "ocr_caption") => {
                lines.push(OcrLine::default());
            }
            Some("ocrx_cinfo") => {
                let text: String = node
                    .descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| n.text())
                    .collect();
                let Some(ch) = text.chars().find(|c| !c.is_whitespace()) else {
                    continue;
                };
                let (bbox, confidence) = parse_title(node.attribute("title").unwrap_or_default());
                if let Some(line) = lines.last_mut() {
                    line.chars.push(OcrChar {
                        ch,
                        confidence,
                        bbox,
                    });
                }
            }
            _ => {}
        }
    }
    lines.retain(|l| !l.chars.is_empty());
    Ok(lines)
}

/// The box and confidence (0..1) in an `ocrx_cinfo` title.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocr_lines_and_character_confidences_are_parsed() {
        let hocr = "<div class='ocr_page' title='bbox 0 0 9 9'>\
            <span class='ocr_line' id='line_1_1' title='bbox 1 2 3 4'>\
            <span class='ocrx_word' title='bbox 1 2 3 4; x_wconf 90'>\
            <span class='ocrx_cinfo' title='x_bboxes 10 2 20 30; x_conf 98.5'>P</span>\
            <span class='ocrx_cinfo' title='x_bboxes 22 2 30 30; x_conf 40'>&lt;</span>\
            </span></span>\
            <span class='ocr_line' id='line_1_2' title='bbox 1 2 3 4'>\
            <span class='ocrx_cinfo' title='x_bboxes 5 40 9 60; x_conf 70'>L</span></span></div>";
        let lines = parse_hocr(hocr).expect("parses");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text(), "P<");
        assert!((lines[0].chars[0].confidence - 0.985).abs() < 1e-4);
        assert_eq!(lines[0].chars[1].bbox, (22, 2, 30, 30));
        assert_eq!(lines[1].text(), "L");
        assert!(parse_hocr("<div><span class='ocr_line'></div>").is_err());
    }

    #[test]
    fn a_region_asking_for_its_own_thread_count_stays_on_the_engine_thread() {
        std::thread::spawn(|| {
            // OMP_THREAD_LIMIT=1 in the environment would hold every region already.
            if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
                assert!(
                    openmp::team_size(4) > 1,
                    "without the hold, a region naming four threads gets a team"
                );
            }
            openmp::one_thread();
            assert_eq!(openmp::team_size(4), 1, "what Tesseract's LSTM asks for");
            assert_eq!(openmp::team_size(0), 1);
        })
        .join()
        .expect("the check ran");
    }
}
