//! The `firmware_download` action: sends a firmware image (a file, a simulator revision or a
//! pattern) in chunks.

use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::plan::values::Pattern;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Where a firmware image comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FirmwareImage {
    /// A file, relative to the plan.
    File(String),
    /// A simulator image for this revision (`NVMPSIM1` magic and the revision).
    SimRevision(String),
    /// Bytes filled with a pattern (an invalid image, for negative tests).
    Pattern {
        /// Image length in bytes.
        len: u32,
        /// The data.
        pattern: Pattern,
    },
}

/// Firmware Image Download: transfer an image in chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareDownload {
    /// The image.
    pub image: FirmwareImage,
    /// Bytes per command (default: the firmware update granularity, else 4096).
    #[serde(default)]
    pub chunk_size: Option<u32>,
    /// Byte offset of the first chunk.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// The `firmware_download` action.
#[derive(Debug)]
pub struct FirmwareDownloadDef;

impl ActionKind for FirmwareDownloadDef {
    type Plan = FirmwareDownload;
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        if let FirmwareImage::File(path) = &plan.image {
            cx.firmware_file(&["image", "file"], path);
        }
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("firmware_download", AdminOpcode::FirmwareImageDownload))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let image = firmware_image(ctx, &a.image)?;
        if image.is_empty() {
            return Err(StepError::Invalid("firmware image is empty".into()));
        }
        let fwug = ctx.ctrl.identify()?.fwug;
        let default_chunk = if fwug == 0 || fwug == 0xFF { 4096 } else { usize::from(fwug) * 4096 };
        let mdts = ctx.ctrl.mdts_bytes().unwrap_or(1 << 20);
        let chunk = a.chunk_size.map_or(default_chunk, |c| c as usize).min(mdts).next_multiple_of(4).max(4);
        let base = a.offset.unwrap_or(0) as usize;
        // One command per chunk, each bounded by what is left of the step.
        let mut done = 0;
        let cqe = loop {
            let end = (done + chunk).min(image.len());
            let timeout = env.command_timeout()?;
            let cqe = ctx
                .ctrl
                .firmware_download_chunks(&image[done..end], chunk, base + done, Some(timeout))
                .map_err(|e| env.command_error(e))?;
            done = end;
            if !cqe.status().is_success() || done >= image.len() {
                break cqe;
            }
        };
        let mut out = ActionOutput { completion: Some(cqe), ..ActionOutput::default() };
        out.values.insert("bytes".into(), image.len().into());
        Ok(out)
    }
}

/// Length of a simulator image built for `sim_revision`.
const SIM_IMAGE_LEN: usize = 8192;

/// The image bytes of a firmware download.
fn firmware_image(ctx: &RunContext, image: &FirmwareImage) -> StepResult<Vec<u8>> {
    Ok(match image {
        FirmwareImage::File(path) => {
            let kind = crate::input::InputKind::Firmware;
            let resolved = ctx
                .paths
                .resolve(&ctx.plan_dir, path, kind)
                .map_err(|e| StepError::Invalid(e.to_string()))?;
            crate::input::read_bytes(&resolved.path, kind).map_err(|e| StepError::Invalid(e.to_string()))?
        }
        FirmwareImage::SimRevision(rev) => match &ctx.sim {
            Some(sim) => sim.firmware_image(rev, SIM_IMAGE_LEN),
            None => {
                return Err(StepError::Invalid(format!(
                    "a `sim_revision` image is the simulator's format; this device is not the simulator (give `file` with the drive's image for revision {rev})"
                )));
            }
        },
        FirmwareImage::Pattern { len, pattern } => {
            if *len as usize > nvmeplan_sim::firmware::MAX_IMAGE_LEN {
                return Err(StepError::Invalid(format!(
                    "firmware image of {len} bytes is larger than {} bytes",
                    nvmeplan_sim::firmware::MAX_IMAGE_LEN
                )));
            }
            let mut data = vec![0u8; *len as usize];
            crate::run::commands::data::fill(&mut data, pattern, ctx.seed);
            data
        }
    })
}
