//! libyaml's event parser behind a safe API, the one place with `unsafe` for YAML. libyaml is
//! PyYAML's own C library (`yaml.CSafeLoader` binds it; the pure-Python parser is a port of the same
//! design), reached through `unsafe-libyaml`, the Rust translation serde_yaml is built on. Unlike
//! serde_yaml's deserializer, its events say how each scalar was written (plain or quoted), which is
//! what PyYAML's resolvers need.

use std::ffi::{c_char, CStr};
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_yaml;

/// One parsing event (the stream start is skipped).
pub enum Event {
    /// `---` or the implicit start of a document.
    DocumentStart,
    /// The end of a document.
    DocumentEnd,
    /// The end of the input.
    StreamEnd,
    /// `*name`.
    Alias(String),
    /// A scalar; `plain` when it was written without quotes and not as a block scalar.
    Scalar {
        /// `&name`, if any.
        anchor: Option<String>,
        /// The resolved explicit tag (`tag:yaml.org,2002:str` for `!!str`, `!` for `!`), if any.
        tag: Option<String>,
        /// The text after unquoting and folding.
        value: String,
        /// Written plain (no quotes, no `|`/`>`), so the implicit resolvers apply.
        plain: bool,
        /// Where it starts: line and column, 1-based.
        mark: (usize, usize),
    },
    /// The start of a sequence: its anchor, its tag, and whether it is a flow (`[…]`) sequence.
    SequenceStart(Option<String>, Option<String>, bool),
    /// The end of a sequence.
    SequenceEnd,
    /// The start of a mapping: its anchor, its tag, and whether it is a flow (`{…}`) mapping.
    MappingStart(Option<String>, Option<String>, bool),
    /// The end of a mapping.
    MappingEnd,
}

/// A syntax error: libyaml's message (the wording serde_yaml shows too) and where it is, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// `problem at line L column C, context at line L column C`.
    pub message: String,
    /// Line and column of the problem.
    pub line: usize,
    /// Column of the problem.
    pub column: usize,
}

/// Where a scalar starts and ends: 0-based (line, column) pairs.
pub type Span = ((usize, usize), (usize, usize));

/// An event parser over a string; the string outlives it.
pub struct Parser<'a> {
    sys: Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>,
    input: PhantomData<&'a str>,
    /// Where each quoted or block scalar read so far starts and ends: 0-based (line, column) pairs.
    pub quoted_spans: Vec<Span>,
}

impl<'a> Parser<'a> {
    /// A parser over `text`, past its stream start.
    pub fn new(text: &'a str) -> Result<Parser<'a>, SyntaxError> {
        let mut sys = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
        // SAFETY: initialize zeroes and sets up the boxed struct (whose address never changes);
        // the input is borrowed for 'a, as long as the parser lives.
        unsafe {
            let p = sys.as_mut_ptr();
            if unsafe_yaml::yaml_parser_initialize(p).fail {
                panic!("libyaml could not allocate its parser");
            }
            unsafe_yaml::yaml_parser_set_encoding(p, unsafe_yaml::YAML_UTF8_ENCODING);
            unsafe_yaml::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as u64);
        }
        let mut parser = Parser {
            sys,
            input: PhantomData,
            quoted_spans: Vec::new(),
        };
        parser.next_event()?;
        Ok(parser)
    }

    /// The next event.
    pub fn next_event(&mut self) -> Result<Event, SyntaxError> {
        let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a successful parse fills the event, which is
        // read before it is deleted, and its strings are NUL-terminated (or `length` bytes long).
        unsafe {
            let p = self.sys.as_mut_ptr();
            if unsafe_yaml::yaml_parser_parse(p, event.as_mut_ptr()).fail {
                return Err(error(p));
            }
            let e = event.as_mut_ptr();
            let out = convert(&*e);
            if let Event::Scalar { plain: false, .. } = out {
                let (s, t) = (&(*e).start_mark, &(*e).end_mark);
                self.quoted_spans.push((
                    (s.line as usize, s.column as usize),
                    (t.line as usize, t.column as usize),
                ));
            }
            unsafe_yaml::yaml_event_delete(e);
            Ok(out)
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, deleted once.
        unsafe { unsafe_yaml::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

unsafe fn text(ptr: *const u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: libyaml's anchors, tags and messages are NUL-terminated.
    let s = unsafe { CStr::from_ptr(ptr as *const c_char) };
    Some(s.to_string_lossy().into_owned())
}

unsafe fn convert(e: &unsafe_yaml::yaml_event_t) -> Event {
    // SAFETY: the union field read is the one the event type selects.
    unsafe {
        match e.type_ {
            unsafe_yaml::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            unsafe_yaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_yaml::YAML_ALIAS_EVENT => {
                Event::Alias(text(e.data.alias.anchor).unwrap_or_default())
            }
            unsafe_yaml::YAML_SCALAR_EVENT => {
                let s = &e.data.scalar;
                let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                Event::Scalar {
                    anchor: text(s.anchor),
                    tag: text(s.tag),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    plain: s.style == unsafe_yaml::YAML_PLAIN_SCALAR_STYLE,
                    mark: (
                        e.start_mark.line as usize + 1,
                        e.start_mark.column as usize + 1,
                    ),
                }
            }
            unsafe_yaml::YAML_SEQUENCE_START_EVENT => Event::SequenceStart(
                text(e.data.sequence_start.anchor),
                text(e.data.sequence_start.tag),
                e.data.sequence_start.style == unsafe_yaml::YAML_FLOW_SEQUENCE_STYLE,
            ),
            unsafe_yaml::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_yaml::YAML_MAPPING_START_EVENT => Event::MappingStart(
                text(e.data.mapping_start.anchor),
                text(e.data.mapping_start.tag),
                e.data.mapping_start.style == unsafe_yaml::YAML_FLOW_MAPPING_STYLE,
            ),
            unsafe_yaml::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            // The stream start is consumed in `new`; after the stream end libyaml sends no event.
            _ => Event::StreamEnd,
        }
    }
}

fn mark_text(m: &unsafe_yaml::yaml_mark_t) -> String {
    if m.line != 0 || m.column != 0 {
        format!("line {} column {}", m.line + 1, m.column + 1)
    } else {
        format!("position {}", m.index)
    }
}

/// libyaml's error in serde_yaml's wording: `problem at MARK[, context at MARK]`.
unsafe fn error(p: *const unsafe_yaml::yaml_parser_t) -> SyntaxError {
    // SAFETY: the parser is initialised; its messages are static C strings or null.
    let p = unsafe { &*p };
    let problem = unsafe { text(p.problem as *const u8) }
        .unwrap_or_else(|| "libyaml parser failed but there is no error".into());
    let (pm, cm) = (&p.problem_mark, &p.context_mark);
    let mut message = problem;
    if pm.line != 0 || pm.column != 0 {
        message.push_str(&format!(" at {}", mark_text(pm)));
    } else if p.problem_offset != 0 {
        message.push_str(&format!(" at position {}", p.problem_offset));
    }
    if let Some(context) = unsafe { text(p.context as *const u8) } {
        message.push_str(&format!(", {context}"));
        if (cm.line != 0 || cm.column != 0) && (cm.line != pm.line || cm.column != pm.column) {
            message.push_str(&format!(" at {}", mark_text(cm)));
        }
    }
    SyntaxError {
        message,
        line: pm.line as usize + 1,
        column: pm.column as usize + 1,
    }
}
