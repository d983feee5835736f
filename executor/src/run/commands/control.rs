//! What the control rooms share: the named fields of a register value,
//! how a fault rule reads in messages, and the cap on `log` messages.

use nvmeplan_sim::faults::FaultRule;
use serde_json::{Map, Value};

pub(crate) fn fields(name: &str, value: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("value".into(), value.into());
    let short = name.rsplit('.').next().unwrap_or(name);
    m.insert(short.to_string(), value.into());
    m
}

/// A short description of a fault rule: `status=unrecovered_read_error on io
/// opcode 0x02, nsid 1, nth 1, 1 time`.
pub fn describe_rule(rule: &FaultRule) -> String {
    let m = &rule.matcher;
    let mut parts = vec![format!("{} on {} commands", rule.action, m.queue)];
    if let Some(op) = m.opcode {
        parts.push(format!("opcode {op:#04x}"));
    }
    if let Some(nsid) = m.nsid {
        parts.push(format!("nsid {nsid}"));
    }
    if let Some((start, end)) = m.lba {
        parts.push(format!("lba {start}..{end}"));
    }
    if let Some(n) = m.nth {
        parts.push(format!("nth {n}"));
    }
    if let Some(p) = m.probability {
        parts.push(format!("probability {p}"));
    }
    if let Some(n) = rule.count {
        parts.push(format!("{n} time(s)"));
    }
    parts.join(", ")
}

/// The longest `log:` message kept, in bytes: the console line, the report
/// and its HTML carry every message, so one expression printing a whole
/// saved structure must not swamp them.
pub const MAX_LOG_BYTES: usize = 16 * 1024;

pub(crate) fn capped_message(mut message: String) -> String {
    if message.len() <= MAX_LOG_BYTES {
        return message;
    }
    let mut end = MAX_LOG_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = message.len() - end;
    message.truncate(end);
    message.push_str(&format!("... ({cut} more bytes not shown; a log message keeps {MAX_LOG_BYTES})"));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_log_messages_are_cut_at_a_character_boundary_saying_so() {
        assert_eq!(capped_message("short".into()), "short");
        let long = format!("{}é{}", "a".repeat(MAX_LOG_BYTES - 1), "b".repeat(100));
        let cut = capped_message(long);
        assert!(cut.starts_with(&"a".repeat(MAX_LOG_BYTES - 1)), "kept the start");
        assert!(
            cut.ends_with("... (102 more bytes not shown; a log message keeps 16384)"),
            "{}",
            &cut[MAX_LOG_BYTES - 8..]
        );
    }
}
