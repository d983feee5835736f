//! nvmeplan: test NVMe SSDs with YAML test plans.
//!
//! This crate holds the plan language: the model ([`plan`]), its JSON
//! Schema ([`schema`]), loading with source positions ([`load`],
//! [`positions`]), expressions ([`expr`]), validation that reports every
//! problem at once ([`validate`], [`diagnostic`]) and the expansion of
//! matrices and repeats into resolved steps ([`expand`]), and the runner
//! that executes plans against a device ([`run`]).
//!
//! A runner loads and validates a plan, then walks the resolved steps:
//!
//! ```
//! use nvmeplan::{Options, StepKind, validate_str};
//!
//! let text = r#"
//! plan_version: 1
//! name: demo
//! vars: { blocks: 8 }
//! steps:
//!   - name: write
//!     matrix: { qd: [1, 4] }
//!     write: { slba: 0, nlb: "${{ blocks * matrix.qd }}" }
//! "#;
//! let report = validate_str("demo.yaml", text, &Options::default());
//! assert!(!report.has_errors());
//! let plan = report.plan.expect("valid plan");
//! let ids: Vec<_> = plan.steps.iter().map(|s| s.id.as_str()).collect();
//! assert_eq!(ids, ["write[qd=1]", "write[qd=4]"]);
//! let StepKind::Action(action) = &plan.steps[1].kind else { unreachable!() };
//! let nvmeplan::plan::Action::Write(write) = action.as_ref() else { unreachable!() };
//! let Some(nvmeplan::plan::Expr::Expression(nlb)) = &write.nlb else { unreachable!() };
//! let ctx = plan.context(&plan.steps[1], &serde_json::Map::new());
//! assert_eq!(nlb.eval(&nvmeplan::expr::Engine::new(), &ctx).unwrap(), 32);
//! ```

pub mod action;
pub mod diagnostic;
pub mod exit_code;
pub mod expand;
pub mod expr;
pub mod fields;
pub mod input;
pub mod load;
pub mod plan;
pub mod positions;
pub mod run;
pub mod schema;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity, Sources, render_json, render_text};
pub use expand::{Bindings, ResolvedStep, SourceLocation, StepKind, ValidatedPlan};
pub use run::{PlanSource, RunOptions, RunResult, run_plan};
pub use validate::{Options, Report, validate_path, validate_str};
