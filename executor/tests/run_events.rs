//! The runner's event stream through the library API: a recording sink sees
//! every event of a small plan, in order, on the runner's thread.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::ThreadId;

use nvmeplan::run::events::{RunEvent, RunEventSink, SinkError};
use nvmeplan::run::{PlanSource, RunOptions, open_device, run_events};
use nvmeplan::{Options, validate_str};

/// Each event as a short line, with the thread it arrived on.
#[derive(Default)]
struct Recorder {
    seen: Vec<(String, ThreadId)>,
}

impl RunEventSink for Recorder {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        let line = match event {
            RunEvent::RunStarted { plan, path, uri, seed, steps, report } => {
                assert!(report.steps.is_empty() && !report.complete);
                format!("run started {plan} {path} {uri} seed {seed}, {steps} steps")
            }
            RunEvent::StepStarted { id, action } => format!("step started {id} {action}"),
            RunEvent::IoWorkerProgress(p) => format!("progress worker {}", p.worker),
            RunEvent::StepFinished { step, report } => {
                assert_eq!(
                    report.steps.last().map(|s| &s.id),
                    Some(&step.id),
                    "the step is the report's last"
                );
                format!("step finished {} {}", step.id, step.outcome.name())
            }
            RunEvent::Warning(w) => format!("warning {w}"),
            RunEvent::RunFinished { result, interrupted } => {
                format!(
                    "run finished complete {} interrupted {interrupted}, {}",
                    result.complete,
                    result.summary.line()
                )
            }
        };
        self.seen.push((line, std::thread::current().id()));
        Ok(())
    }
}

#[test]
fn a_recording_sink_sees_the_run_in_order_on_the_runners_thread() {
    let text = "plan_version: 1\nname: ev\ndevice: sim\nsteps:\n  - { name: id, identify: { cns: controller } }\n  - name: grp\n    group:\n      steps:\n        - { name: never, when: \"${{ false }}\", flush: {} }\n        - { name: f, flush: {} }\n  - { name: load, ioworker: { io_size: 8, qdepth: 2, time: 1500ms } }\n";
    let report = validate_str("ev.yaml", text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let source = PlanSource { path: "ev.yaml".into(), text: text.into() };
    let options =
        RunOptions { seed: Some(3), stop: Arc::new(AtomicBool::new(false)), ..RunOptions::default() };
    let mut recorder = Recorder::default();
    let result =
        run_events(&plan, &source, open_device("sim").unwrap(), "sim", &options, &mut recorder).unwrap();
    assert!(result.complete);

    let here = std::thread::current().id();
    assert!(recorder.seen.iter().all(|(_, t)| *t == here), "every event arrives on the runner's thread");
    let lines: Vec<&str> = recorder.seen.iter().map(|(l, _)| l.as_str()).collect();
    // The IO worker reports about once per second: at least once in 1.5 s,
    // always between its step's start and end.
    let load_start = lines.iter().position(|l| *l == "step started load ioworker").expect("load started");
    let load_end = lines.iter().position(|l| *l == "step finished load pass").expect("load finished");
    let progress: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| l.starts_with("progress ")).map(|(i, _)| i).collect();
    assert!(!progress.is_empty(), "{lines:#?}");
    assert!(progress.iter().all(|i| (load_start..load_end).contains(i)), "{lines:#?}");
    let without_progress: Vec<&str> = lines.iter().copied().filter(|l| !l.starts_with("progress ")).collect();
    assert_eq!(
        without_progress,
        [
            "run started ev ev.yaml sim seed 3, 4 steps",
            "step started id identify",
            "step finished id pass",
            "step finished grp/never skip",
            "step started grp/f flush",
            "step finished grp/f pass",
            "step started load ioworker",
            "step finished load pass",
            "run finished complete true interrupted false, 3 passed, 0 failed, 1 skipped",
        ]
    );
}
