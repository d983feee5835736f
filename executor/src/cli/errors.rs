//! Error messages of the command line: an error and its causes on one
//! line, each cause once. Many errors already name their cause in their
//! own text (`cannot read `r.json`: No such file or directory`) and also
//! return it as their source; printing the whole chain would repeat it.

use std::error::Error;

/// `error: cause: cause's cause`, leaving out a cause whose text the
/// message already holds.
pub fn message(error: &anyhow::Error) -> String {
    join(error.chain())
}

/// [`message`] of a standard error.
pub fn message_of(error: &(dyn Error + 'static)) -> String {
    let mut chain = Vec::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        chain.push(e);
        cause = e.source();
    }
    join(chain.into_iter())
}

fn join<'a>(chain: impl Iterator<Item = &'a (dyn Error + 'static)>) -> String {
    let mut text = String::new();
    for cause in chain {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read `r.json`: {source}")]
    struct Read {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = anyhow::Error::new(Read { source: io() });
        assert_eq!(
            format!("{e:#}"),
            "cannot read `r.json`: No such file or directory: No such file or directory"
        );
        assert_eq!(message(&e), "cannot read `r.json`: No such file or directory");
        let e = anyhow::Error::new(io()).context("cannot read the plan");
        assert_eq!(message(&e), "cannot read the plan: No such file or directory");
        assert_eq!(message_of(&Read { source: io() }), "cannot read `r.json`: No such file or directory");
    }
}
