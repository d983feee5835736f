//! `nvmeplan schema`: prints the plan JSON Schema, or with `--report` the
//! schema of `report.json`.

/// Prints the plan schema, or the report schema when `report`; the exit code.
pub fn run(report: bool) -> u8 {
    let text = if report {
        nvmeplan_reports::schema::report_schema_string()
    } else {
        nvmeplan::schema::plan_schema_string()
    };
    super::stdout::print(&text);
    nvmeplan::exit_code::ExitCode::Success.code()
}
