//! The exit codes of `nvmeplan`, in one list: each code once
//! ([`ExitCode`]), what it means for each command ([`COMMANDS`]), and the
//! texts made from them (the `--help` of every command, the table in the
//! README and docs/plan-language.md, which a test compares).

/// An exit code of `nvmeplan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitCode {
    /// Every plan is valid, every step passed or was skipped, no regression.
    Success,
    /// A step failed or errored; `diff`: a regression.
    Failed,
    /// A plan has errors or the command line is wrong: nothing ran.
    Usage,
    /// The device could not be opened (or, for `bind`, refused).
    Device,
    /// An output could not be written after steps ran.
    Output,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted,
}

impl ExitCode {
    /// Every exit code, in numeric order.
    pub const ALL: [ExitCode; 6] = [
        ExitCode::Success,
        ExitCode::Failed,
        ExitCode::Usage,
        ExitCode::Device,
        ExitCode::Output,
        ExitCode::Interrupted,
    ];

    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::Device => 3,
            ExitCode::Output => 4,
            ExitCode::Interrupted => 130,
        }
    }

    /// What the code means across the commands (the top-level `--help`).
    pub const fn summary(self) -> &'static str {
        match self {
            ExitCode::Success => {
                "success: every plan is valid / every step passed or was skipped / diff: no regression"
            }
            ExitCode::Failed => "run: a step failed or errored / diff: a regression",
            ExitCode::Usage => {
                "a plan has errors, or the command line is wrong (nothing ran) / diff: reports not comparable or unreadable"
            }
            ExitCode::Device => "run: the device could not be opened",
            ExitCode::Output => {
                "run: an output (report.json, report.html, junit.xml, stdout) could not be written; the message names it and the results of the steps that ran are printed"
            }
            ExitCode::Interrupted => "run: interrupted (Ctrl-C, SIGTERM)",
        }
    }
}

impl From<ExitCode> for u8 {
    fn from(code: ExitCode) -> u8 {
        code.code()
    }
}

/// What the exit codes of one command mean.
#[derive(Debug, Clone, Copy)]
pub struct CommandCodes {
    /// The subcommand.
    pub command: &'static str,
    /// Each code it exits with, and what it means there.
    pub codes: &'static [(ExitCode, &'static str)],
    /// A paragraph after the list.
    pub note: Option<&'static str>,
}

/// What a closed or full stdout does to the exit code.
pub const STDOUT_NOTE: &str = "A closed stdout (`| head`) is not an error: printing stops, the work goes on and the exit code is unchanged. Another write error on stdout (a full disk) is exit 4 for run, 2 for the other commands.";

const RUN: CommandCodes = CommandCodes {
    command: "run",
    codes: &[
        (ExitCode::Success, "every step passed or was skipped"),
        (ExitCode::Failed, "a step failed or errored"),
        (
            ExitCode::Usage,
            "a plan has errors, or the command line is wrong: a `--var` no plan uses, a `--tags`/`--skip-tags` tag no step has, an output that would overwrite an input (nothing ran)",
        ),
        (ExitCode::Device, "the device could not be opened"),
        (
            ExitCode::Output,
            "an output (report.json, report.html, junit.xml, stdout) could not be written: the message names it, the run stops after the current step and the results of the steps that ran are printed",
        ),
        (ExitCode::Interrupted, "interrupted (Ctrl-C, SIGTERM)"),
    ],
    note: Some(
        "The last line printed is `N passed, N failed, N skipped`. A closed stdout (`| head`) stops the printing, not the run: the exit code is that of the steps.",
    ),
};

const VALIDATE: CommandCodes = CommandCodes {
    command: "validate",
    codes: &[
        (ExitCode::Success, "every plan is valid"),
        (ExitCode::Usage, "a plan has errors, a file cannot be read, or the command line is wrong"),
    ],
    note: None,
};

const REPORT: CommandCodes = CommandCodes {
    command: "report",
    codes: &[
        (ExitCode::Success, "rendered"),
        (
            ExitCode::Usage,
            "the report cannot be read, an output would overwrite it or another output, or an output cannot be written",
        ),
    ],
    note: None,
};

const DIFF: CommandCodes = CommandCodes {
    command: "diff",
    codes: &[
        (ExitCode::Success, "no regression"),
        (
            ExitCode::Failed,
            "a regression: a step now fails or errors, or a metric is worse past its threshold (and past the run-to-run spread)",
        ),
        (
            ExitCode::Usage,
            "the reports are not comparable (different plans, no step in common), cannot be read, an output would overwrite a report or cannot be written, or the options or arguments are wrong (more than two reports without `--`)",
        ),
    ],
    note: None,
};

const DEVICES: CommandCodes = CommandCodes {
    command: "devices",
    codes: &[(ExitCode::Success, "listed"), (ExitCode::Device, "sysfs could not be read")],
    note: None,
};

const BIND: CommandCodes = CommandCodes {
    command: "bind",
    codes: &[
        (ExitCode::Success, "bound"),
        (ExitCode::Usage, "malformed address"),
        (ExitCode::Device, "refused or failed"),
    ],
    note: None,
};

const UNBIND: CommandCodes = CommandCodes {
    command: "unbind",
    codes: &[
        (ExitCode::Success, "bound to nvme"),
        (ExitCode::Usage, "malformed address"),
        (ExitCode::Device, "refused or failed"),
    ],
    note: None,
};

/// Every command's exit codes.
pub const COMMANDS: &[CommandCodes] = &[RUN, VALIDATE, REPORT, DIFF, DEVICES, BIND, UNBIND];

fn list<'a>(lines: impl Iterator<Item = (ExitCode, &'a str)>, note: Option<&str>) -> String {
    let mut out = String::from("Exit codes:\n");
    for (code, meaning) in lines {
        out.push_str(&format!("  {:<4} {meaning}\n", code.code()));
    }
    if let Some(note) = note {
        out.push('\n');
        out.push_str(note);
    }
    out.trim_end().to_string()
}

/// The `Exit codes:` section of `command`'s `--help`.
pub fn help(command: &str) -> String {
    match COMMANDS.iter().find(|c| c.command == command) {
        Some(c) => list(c.codes.iter().copied(), c.note),
        None => String::new(),
    }
}

/// The `Exit codes:` section of the top-level `--help`.
pub fn help_all() -> String {
    list(ExitCode::ALL.iter().map(|c| (*c, c.summary())), Some(STDOUT_NOTE))
}

/// The Markdown table of every code and what it means for each command,
/// as the README and docs/plan-language.md show it.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | meaning |\n|---|---|\n");
    for code in ExitCode::ALL {
        let meanings: Vec<String> = COMMANDS
            .iter()
            .filter_map(|c| {
                c.codes.iter().find(|(k, _)| *k == code).map(|(_, m)| format!("`{}`: {m}", c.command))
            })
            .collect();
        out.push_str(&format!("| {} | {} |\n", code.code(), meanings.join("; ").replace('|', "\\|")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_every_command_code_is_listed() {
        let mut codes: Vec<u8> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), ExitCode::ALL.len());
        for c in COMMANDS {
            assert!(help(c.command).starts_with("Exit codes:\n  0    "), "{}", c.command);
        }
        assert!(help_all().contains("  130  run: interrupted"));
    }

    /// The README and docs/plan-language.md carry the table made from this
    /// list; on a mismatch, paste the table printed here.
    #[test]
    fn the_docs_show_the_exit_code_table() {
        let table = markdown_table();
        for doc in ["../README.md", "../docs/plan-language.md"] {
            let text =
                std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
            assert!(text.contains(&table), "{doc} lacks the exit-code table; paste:\n{table}");
        }
    }
}
