//! Fault injection: rules that alter how matching commands complete.
//!
//! A plan says "inject a fault for the following steps": it adds a
//! [`FaultRule`] to the controller's [`FaultInjector`], runs steps, and
//! removes the rule. For every fetched command the queue engine calls
//! [`FaultInjector::evaluate`]; the first rule that matches and is not
//! exhausted decides what happens instead of (or in addition to) normal
//! execution. With no live rules, evaluation is a single relaxed atomic load.
//!
//! Rules match on the queue (admin, any IO queue or one SQ), the opcode,
//! the namespace, an LBA range and can act only on the nth matching command,
//! at most `count` times, or with a probability drawn from a seeded RNG so a
//! run is reproducible. Opcodes alone are ambiguous (0x02 is both Get Log
//! Page and Read), so pair them with a queue matcher; LBA ranges only match
//! commands on IO queues.

use nvmeplan_spec::duration::{ParseDurationError, format_duration, parse_duration};
use nvmeplan_spec::{Command, NvmOpcode, Status};
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Identifies a rule added to a [`FaultInjector`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub u64);

impl fmt::Display for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault#{}", self.0)
    }
}

/// Which submission queues a rule applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueMatch {
    /// Every queue.
    #[default]
    Any,
    /// The admin queue (SQ 0).
    Admin,
    /// Every IO queue (SQ 1 and up).
    Io,
    /// One submission queue.
    Sq(u16),
}

impl QueueMatch {
    /// Whether a command fetched from `sqid` is covered.
    pub fn matches(self, sqid: u16) -> bool {
        match self {
            QueueMatch::Any => true,
            QueueMatch::Admin => sqid == 0,
            QueueMatch::Io => sqid != 0,
            QueueMatch::Sq(q) => sqid == q,
        }
    }
}

impl fmt::Display for QueueMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueMatch::Any => f.write_str("any"),
            QueueMatch::Admin => f.write_str("admin"),
            QueueMatch::Io => f.write_str("io"),
            QueueMatch::Sq(q) => write!(f, "sq{q}"),
        }
    }
}

impl FromStr for QueueMatch {
    type Err = ParseFaultError;

    /// `any`, `admin`, `io`, or `sqN` / `N` for one submission queue.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "any" | "all" => Ok(QueueMatch::Any),
            "admin" => Ok(QueueMatch::Admin),
            "io" => Ok(QueueMatch::Io),
            _ => t
                .strip_prefix("sq")
                .unwrap_or(&t)
                .parse()
                .map(QueueMatch::Sq)
                .map_err(|_| ParseFaultError::Queue(text.to_string())),
        }
    }
}

/// Which commands a rule applies to; every criterion left `None` matches
/// everything (the default matches every command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultMatch {
    /// Which queues.
    pub queue: QueueMatch,
    /// Only this opcode.
    pub opcode: Option<u8>,
    /// Only this namespace id.
    pub nsid: Option<u32>,
    /// Only IO commands whose blocks `[slba, slba + nlb)` overlap this
    /// range (inclusive start, exclusive end). Never matches admin
    /// commands or IO commands without an LBA range (Flush, Dataset
    /// Management, unknown opcodes).
    pub lba: Option<(u64, u64)>,
    /// Act only on the nth command (1-based) that matches the other
    /// criteria.
    pub nth: Option<u64>,
    /// Act on a matching command with this probability (0 to 1), drawn
    /// from the injector's seeded RNG.
    pub probability: Option<f64>,
}

impl FaultMatch {
    /// Whether a command matches the queue, opcode, namespace and LBA
    /// criteria (not `nth` or `probability`, which need rule state).
    pub fn matches_command(&self, sqid: u16, cmd: &Command) -> bool {
        if !self.queue.matches(sqid) {
            return false;
        }
        if self.opcode.is_some_and(|op| op != cmd.opcode()) {
            return false;
        }
        if self.nsid.is_some_and(|nsid| nsid != cmd.nsid) {
            return false;
        }
        if let Some((start, end)) = self.lba {
            if sqid == 0 {
                return false;
            }
            let Some((slba, nlb)) = io_lba_range(cmd) else {
                return false;
            };
            if !(slba < end && slba.saturating_add(nlb) > start) {
                return false;
            }
        }
        true
    }
}

/// The block range of an IO command that carries one.
fn io_lba_range(cmd: &Command) -> Option<(u64, u64)> {
    match NvmOpcode::from_u8(cmd.opcode())? {
        NvmOpcode::Read
        | NvmOpcode::Write
        | NvmOpcode::WriteUncorrectable
        | NvmOpcode::Compare
        | NvmOpcode::WriteZeroes
        | NvmOpcode::Verify => Some((cmd.slba(), u64::from(cmd.nlb()))),
        // A Copy's blocks are in its descriptor list, not in the command.
        NvmOpcode::Flush | NvmOpcode::DatasetManagement | NvmOpcode::Copy => None,
    }
}

/// What happens to a command a rule acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Complete with this status instead of executing the command.
    Status {
        /// The status to report.
        status: Status,
        /// The Do Not Retry bit.
        dnr: bool,
    },
    /// Execute normally but post the completion after this delay.
    Delay(Duration),
    /// Execute but never post a completion (the host times out).
    DropCompletion,
    /// Execute; a Read returns corrupted data (the media stays intact).
    CorruptData,
    /// The controller fails: CSTS.CFS is set and it stops processing.
    ControllerFatal,
    /// The controller stops processing commands until it is reset.
    Hang,
}

impl fmt::Display for FaultAction {
    /// The textual form [`FaultAction::from_str`] parses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultAction::Status { status, dnr } => {
                match status.name() {
                    Some(name) => write!(f, "status={name}")?,
                    None => write!(f, "status={}", status.code())?,
                }
                if *dnr {
                    f.write_str(",dnr")?;
                }
                Ok(())
            }
            FaultAction::Delay(d) => write!(f, "delay={}", format_duration(*d)),
            FaultAction::DropCompletion => f.write_str("drop"),
            FaultAction::CorruptData => f.write_str("corrupt"),
            FaultAction::ControllerFatal => f.write_str("fatal"),
            FaultAction::Hang => f.write_str("hang"),
        }
    }
}

/// Why a fault description did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseFaultError {
    /// Not one of the known action words.
    #[error(
        "unknown fault action `{0}`: expected status=NAME[,dnr], delay=DURATION, drop, corrupt, fatal or hang"
    )]
    UnknownAction(String),
    /// The status did not parse.
    #[error("fault status: {0}")]
    Status(#[from] nvmeplan_spec::status::ParseStatusError),
    /// A status option other than `dnr`.
    #[error("unknown status option `{0}`: only `dnr` is allowed")]
    StatusOption(String),
    /// The delay was not a number with a unit.
    #[error("fault delay: {0}")]
    Delay(#[source] ParseDurationError),
    /// The queue was not `any`, `admin`, `io` or `sqN`.
    #[error("invalid queue `{0}`: expected any, admin, io or sqN")]
    Queue(String),
}

impl FromStr for FaultAction {
    type Err = ParseFaultError;

    /// `status=lba_out_of_range`, `status=0x2/0x81,dnr`, `delay=50ms`,
    /// `drop`, `corrupt`, `fatal`, `hang`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let (word, value) = match t.split_once('=') {
            Some((w, v)) => (w.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (t.to_ascii_lowercase(), None),
        };
        match (word.as_str(), value) {
            ("status", Some(value)) => {
                let mut parts = value.split(',');
                let status = parts.next().unwrap_or_default().parse()?;
                let mut dnr = false;
                for option in parts {
                    match option.trim().to_ascii_lowercase().as_str() {
                        "dnr" => dnr = true,
                        other => return Err(ParseFaultError::StatusOption(other.to_string())),
                    }
                }
                Ok(FaultAction::Status { status, dnr })
            }
            ("delay", Some(value)) => {
                parse_duration(value).map(FaultAction::Delay).map_err(ParseFaultError::Delay)
            }
            ("drop" | "drop-completion", None) => Ok(FaultAction::DropCompletion),
            ("corrupt" | "corrupt-data", None) => Ok(FaultAction::CorruptData),
            ("fatal" | "controller-fatal", None) => Ok(FaultAction::ControllerFatal),
            ("hang", None) => Ok(FaultAction::Hang),
            _ => Err(ParseFaultError::UnknownAction(t.to_string())),
        }
    }
}

/// A rule: which commands, what happens, how often.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// Which commands the rule applies to.
    pub matcher: FaultMatch,
    /// What happens to them.
    pub action: FaultAction,
    /// Act at most this many times; `None` for unlimited.
    pub count: Option<u64>,
}

impl FaultRule {
    /// A rule acting on every command `matcher` covers, without limit.
    pub fn new(matcher: FaultMatch, action: FaultAction) -> Self {
        FaultRule { matcher, action, count: None }
    }

    /// The same rule limited to `count` actions.
    pub fn times(self, count: u64) -> Self {
        FaultRule { count: Some(count), ..self }
    }
}

struct RuleState {
    id: FaultId,
    rule: FaultRule,
    /// Commands that matched the queue/opcode/nsid/LBA criteria.
    seen: u64,
    /// Times the rule acted.
    fired: u64,
    /// Whether the rule can still act (counted in `live`).
    live: bool,
}

impl RuleState {
    fn exhausted(&self) -> bool {
        self.rule.count.is_some_and(|n| self.fired >= n)
            || self.rule.matcher.nth.is_some_and(|n| self.seen >= n)
    }
}

struct Inner {
    rules: Vec<RuleState>,
    next_id: u64,
    rng: SmallRng,
}

/// The controller's fault rules.
pub struct FaultInjector {
    /// Rules that can still act; zero makes `evaluate` a single load.
    live: AtomicUsize,
    inner: Mutex<Inner>,
    hung: AtomicBool,
}

impl Default for FaultInjector {
    fn default() -> Self {
        FaultInjector {
            live: AtomicUsize::new(0),
            inner: Mutex::new(Inner { rules: Vec::new(), next_id: 1, rng: SmallRng::seed_from_u64(0) }),
            hung: AtomicBool::new(false),
        }
    }
}

impl fmt::Debug for FaultInjector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultInjector").field("rules", &self.rules()).field("hung", &self.is_hung()).finish()
    }
}

impl FaultInjector {
    /// An injector without rules (the RNG seed is 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule after the existing ones; earlier rules take precedence.
    pub fn add(&self, rule: FaultRule) -> FaultId {
        let mut inner = self.inner.lock();
        let id = FaultId(inner.next_id);
        inner.next_id += 1;
        let mut state = RuleState { id, rule, seen: 0, fired: 0, live: true };
        state.live = !state.exhausted();
        if state.live {
            self.live.fetch_add(1, Ordering::Relaxed);
        }
        inner.rules.push(state);
        id
    }

    /// Removes a rule; returns whether it existed.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut inner = self.inner.lock();
        let Some(at) = inner.rules.iter().position(|r| r.id == id) else {
            return false;
        };
        if inner.rules.remove(at).live {
            self.live.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Removes every rule (the hung state is left as is).
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.rules.clear();
        self.live.store(0, Ordering::Relaxed);
    }

    /// The rules in precedence order, exhausted ones included.
    pub fn rules(&self) -> Vec<(FaultId, FaultRule)> {
        self.inner.lock().rules.iter().map(|r| (r.id, r.rule.clone())).collect()
    }

    /// How many times the rule acted (0 for an unknown id).
    pub fn fired(&self, id: FaultId) -> u64 {
        self.inner.lock().rules.iter().find(|r| r.id == id).map_or(0, |r| r.fired)
    }

    /// Reseeds the RNG behind probabilistic rules; the same seed and the
    /// same command sequence give the same decisions.
    pub fn set_seed(&self, seed: u64) {
        self.inner.lock().rng = SmallRng::seed_from_u64(seed);
    }

    /// Decides what happens to a command fetched from submission queue
    /// `sqid`: the action of the first matching rule that is not exhausted,
    /// or `None` to execute it normally.
    ///
    /// Every live rule whose criteria match counts the command towards its
    /// `nth`, even when an earlier rule acts. A `Hang` action also sets the
    /// hung flag. With no live rules this is one relaxed atomic load.
    pub fn evaluate(&self, sqid: u16, cmd: &Command) -> Option<FaultAction> {
        if self.live.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut inner = self.inner.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let mut chosen = None;
        for state in rules.iter_mut().filter(|r| r.live) {
            if !state.rule.matcher.matches_command(sqid, cmd) {
                continue;
            }
            state.seen += 1;
            let acts = chosen.is_none()
                && state.rule.matcher.nth.is_none_or(|n| state.seen == n)
                && state.rule.matcher.probability.is_none_or(|p| rng.random::<f64>() < p);
            if acts {
                state.fired += 1;
                chosen = Some(state.rule.action.clone());
            }
            if state.exhausted() {
                state.live = false;
                self.live.fetch_sub(1, Ordering::Relaxed);
            }
        }
        if chosen == Some(FaultAction::Hang) {
            self.hung.store(true, Ordering::Release);
        }
        chosen
    }

    /// Whether a `Hang` action has stopped the controller.
    pub fn is_hung(&self) -> bool {
        self.hung.load(Ordering::Acquire)
    }

    /// Clears the hung state; the controller calls this on every reset.
    pub fn reset_hang(&self) {
        self.hung.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(slba: u64, nlb: u32) -> Command {
        let mut cmd = Command::new(0x02, 1);
        cmd.set_slba(slba);
        cmd.cdw12 = nlb - 1;
        cmd
    }

    fn error(status: Status) -> FaultAction {
        FaultAction::Status { status, dnr: false }
    }

    #[test]
    fn no_rules_means_no_action() {
        let faults = FaultInjector::default();
        assert_eq!(faults.evaluate(1, &read(0, 1)), None);
        assert!(faults.rules().is_empty());
        assert!(!faults.remove(FaultId(1)));
        assert_eq!(faults.fired(FaultId(1)), 0);
    }

    #[test]
    fn nth_matching_command_only() {
        let faults = FaultInjector::default();
        let m = FaultMatch { queue: QueueMatch::Io, opcode: Some(0x02), nth: Some(3), ..Default::default() };
        let id = faults.add(FaultRule::new(m, error(Status::INTERNAL_ERROR)));
        let write = Command::new(0x01, 1);
        let mut acted = Vec::new();
        for i in 0..6 {
            // Writes do not count towards nth.
            assert_eq!(faults.evaluate(1, &write), None);
            acted.push(faults.evaluate(1, &read(i, 1)).is_some());
        }
        assert_eq!(acted, [false, false, true, false, false, false]);
        assert_eq!(faults.fired(id), 1);
        // Exhausted: back to the single atomic load.
        assert_eq!(faults.live.load(Ordering::Relaxed), 0);
        assert_eq!(faults.rules().len(), 1);
    }

    #[test]
    fn count_limits_actions() {
        let faults = FaultInjector::default();
        let id = faults.add(FaultRule::new(FaultMatch::default(), FaultAction::DropCompletion).times(2));
        let results: Vec<_> = (0..4).map(|i| faults.evaluate(1, &read(i, 1))).collect();
        assert_eq!(
            results,
            [Some(FaultAction::DropCompletion), Some(FaultAction::DropCompletion), None, None]
        );
        assert_eq!(faults.fired(id), 2);
        assert!(faults.remove(id));
        assert!(!faults.remove(id));
        let zero = faults.add(FaultRule::new(FaultMatch::default(), FaultAction::Hang).times(0));
        assert_eq!(faults.evaluate(1, &read(0, 1)), None);
        assert_eq!(faults.fired(zero), 0);
    }

    #[test]
    fn probability_is_deterministic_per_seed() {
        let run = |seed: u64| -> Vec<bool> {
            let faults = FaultInjector::default();
            faults.set_seed(seed);
            let m = FaultMatch { probability: Some(0.3), ..Default::default() };
            faults.add(FaultRule::new(m, FaultAction::CorruptData));
            (0..200).map(|i| faults.evaluate(1, &read(i, 1)).is_some()).collect()
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        let hits = a.iter().filter(|&&x| x).count();
        assert!((30..90).contains(&hits), "{hits} of 200 at p=0.3");
        let never = FaultInjector::default();
        never.add(FaultRule::new(
            FaultMatch { probability: Some(0.0), ..Default::default() },
            FaultAction::Hang,
        ));
        assert!((0..100).all(|i| never.evaluate(1, &read(i, 1)).is_none()));
    }

    #[test]
    fn lba_overlap_and_queue_matching() {
        let faults = FaultInjector::default();
        let m = FaultMatch { lba: Some((100, 200)), ..Default::default() };
        faults.add(FaultRule::new(m, error(Status::UNRECOVERED_READ_ERROR)));
        assert!(faults.evaluate(1, &read(90, 10)).is_none()); // [90, 100)
        assert!(faults.evaluate(1, &read(90, 11)).is_some()); // touches 100
        assert!(faults.evaluate(1, &read(199, 8)).is_some());
        assert!(faults.evaluate(1, &read(200, 8)).is_none());
        assert!(faults.evaluate(1, &read(u64::MAX, 1)).is_none()); // no overflow
        // Admin commands never match an LBA range, even Get Log Page (0x02).
        assert!(faults.evaluate(0, &read(150, 1)).is_none());
        // Flush carries no LBA range.
        assert!(faults.evaluate(1, &Command::new(0x00, 1)).is_none());

        let faults = FaultInjector::default();
        let admin = FaultMatch { queue: QueueMatch::Admin, opcode: Some(0x02), ..Default::default() };
        faults.add(FaultRule::new(admin, error(Status::INVALID_LOG_PAGE)));
        let sq3 = FaultMatch { queue: QueueMatch::Sq(3), nsid: Some(2), ..Default::default() };
        faults.add(FaultRule::new(sq3, FaultAction::Delay(Duration::from_millis(5))));
        assert_eq!(faults.evaluate(0, &read(0, 1)), Some(error(Status::INVALID_LOG_PAGE)));
        assert_eq!(faults.evaluate(1, &read(0, 1)), None);
        assert_eq!(faults.evaluate(3, &read(0, 1)), None); // nsid 1
        let mut ns2 = read(0, 1);
        ns2.nsid = 2;
        assert_eq!(faults.evaluate(3, &ns2), Some(FaultAction::Delay(Duration::from_millis(5))));
        assert_eq!(faults.evaluate(2, &ns2), None);
        faults.clear();
        assert_eq!(faults.evaluate(0, &read(0, 1)), None);
    }

    #[test]
    fn first_rule_wins_and_later_rules_still_count() {
        let faults = FaultInjector::default();
        let a = faults.add(FaultRule::new(FaultMatch::default(), FaultAction::CorruptData).times(1));
        let b = faults.add(FaultRule::new(
            FaultMatch { nth: Some(2), ..Default::default() },
            FaultAction::DropCompletion,
        ));
        assert_eq!(faults.evaluate(1, &read(0, 1)), Some(FaultAction::CorruptData));
        assert_eq!(faults.evaluate(1, &read(0, 1)), Some(FaultAction::DropCompletion));
        assert_eq!(faults.evaluate(1, &read(0, 1)), None);
        assert_eq!((faults.fired(a), faults.fired(b)), (1, 1));
        let ids: Vec<_> = faults.rules().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [a, b]);
    }

    #[test]
    fn hang_sets_flag_until_reset() {
        let faults = FaultInjector::default();
        faults.add(FaultRule::new(FaultMatch::default(), FaultAction::Hang).times(1));
        assert!(!faults.is_hung());
        assert_eq!(faults.evaluate(0, &Command::new(0x06, 0)), Some(FaultAction::Hang));
        assert!(faults.is_hung());
        faults.reset_hang();
        assert!(!faults.is_hung());
    }

    #[test]
    fn actions_parse_and_print() {
        let cases = [
            ("status=lba_out_of_range", FaultAction::Status { status: Status::LBA_OUT_OF_RANGE, dnr: false }),
            (
                "status=0x2/0x81,dnr",
                FaultAction::Status { status: Status::UNRECOVERED_READ_ERROR, dnr: true },
            ),
            ("delay=50ms", FaultAction::Delay(Duration::from_millis(50))),
            ("delay=2s", FaultAction::Delay(Duration::from_secs(2))),
            ("delay=250us", FaultAction::Delay(Duration::from_micros(250))),
            ("drop", FaultAction::DropCompletion),
            ("corrupt", FaultAction::CorruptData),
            ("fatal", FaultAction::ControllerFatal),
            ("hang", FaultAction::Hang),
        ];
        for (text, action) in cases {
            assert_eq!(text.parse::<FaultAction>(), Ok(action.clone()), "{text}");
            assert_eq!(action.to_string().parse::<FaultAction>(), Ok(action));
        }
        assert_eq!(
            FaultAction::Status { status: Status::UNRECOVERED_READ_ERROR, dnr: true }.to_string(),
            "status=unrecovered_read_error,dnr"
        );
        assert_eq!("status=0x7/0xc0".parse::<FaultAction>().unwrap().to_string(), "status=0x7/0xc0");
        assert!(matches!("status=lba-out-of-rnage".parse::<FaultAction>(), Err(ParseFaultError::Status(_))));
        assert!(matches!(
            "status=lba_out_of_range,retry".parse::<FaultAction>(),
            Err(ParseFaultError::StatusOption(_))
        ));
        assert!(matches!("delay=5 parsecs".parse::<FaultAction>(), Err(ParseFaultError::Delay(_))));
        assert!(matches!(
            "delay=99999999999999999999ms".parse::<FaultAction>(),
            Err(ParseFaultError::Delay(_))
        ));
        let bare = "delay=50".parse::<FaultAction>().unwrap_err();
        assert!(matches!(bare, ParseFaultError::Delay(ParseDurationError::MissingUnit(_))), "{bare:?}");
        assert!(bare.to_string().contains("write `500ms` or `2s`: a duration needs a unit"), "{bare}");
        assert!(matches!("explode".parse::<FaultAction>(), Err(ParseFaultError::UnknownAction(_))));
        assert!(matches!("drop=1".parse::<FaultAction>(), Err(ParseFaultError::UnknownAction(_))));
        assert_eq!("sq3".parse(), Ok(QueueMatch::Sq(3)));
        assert_eq!("IO".parse(), Ok(QueueMatch::Io));
        assert!("sqx".parse::<QueueMatch>().is_err());
    }
}
