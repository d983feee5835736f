//! Property tests of the device URI parameter parser
//! (`SimConfig::from_params`): it never panics, whatever the text, and the
//! valid keys read back as written.

use nvmeplan_sim::{CreateMode, SimConfig, Storage};
use proptest::prelude::*;
use std::path::PathBuf;

/// Text built from the characters the parser splits and matches on, so
/// that most cases reach the value parsers rather than failing at the key.
fn uri_like() -> impl Strategy<Value = String> {
    let key = prop::sample::select(nvmeplan_sim::config::VALID_KEYS.to_vec()).prop_map(str::to_string);
    let value = "[a-zA-Z0-9:+.=/ µ_-]{0,24}";
    prop::collection::vec((key, value), 0..8)
        .prop_map(|items| items.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
}

#[derive(Debug, Clone)]
struct Valid {
    mqes: u16,
    queues: u16,
    mdts: u8,
    msix: u16,
    serial: String,
    vwc: bool,
    seed: u64,
    create: (&'static str, CreateMode),
    file: String,
    lba: u32,
    namespaces: usize,
    mib_per_ns: u64,
}

fn valid() -> impl Strategy<Value = Valid> {
    (
        (1u16..=65535, 1u16..=65534, 0u8..=12, 1u16..=2048, "[A-Za-z0-9._-]{1,20}", any::<bool>()),
        (
            any::<u64>(),
            prop::sample::select(vec![
                ("auto", CreateMode::Auto),
                ("yes", CreateMode::New),
                ("no", CreateMode::Existing),
            ]),
            "[a-z][a-z0-9_]{0,7}\\.img",
            prop::sample::select(vec![512u32, 4096]),
            1usize..=4,
            1u64..=64,
        ),
    )
        .prop_map(
            |((mqes, queues, mdts, msix, serial, vwc), (seed, create, file, lba, namespaces, mib))| Valid {
                mqes,
                queues,
                mdts,
                msix,
                serial,
                vwc,
                seed,
                create,
                file,
                lba,
                namespaces,
                mib_per_ns: mib,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = SimConfig::from_params(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn uri_like_text_never_panics_and_valid_results_validate(text in uri_like()) {
        match SimConfig::from_params(&text) {
            Ok(cfg) => prop_assert!(cfg.validate().is_ok(), "{text}: accepted but invalid"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn valid_keys_round_trip(v in valid(), upper in any::<bool>()) {
        let key = |k: &str| if upper { k.to_ascii_uppercase() } else { k.to_string() };
        let capacity = v.mib_per_ns * v.namespaces as u64;
        let text = [
            format!("{}={}", key("mqes"), v.mqes),
            format!("{}={}", key("queues"), v.queues),
            format!("{}={}", key("mdts"), v.mdts),
            format!("{}={}", key("msix"), v.msix),
            format!("{}={}", key("serial"), v.serial),
            format!("{}={}", key("vwc"), if v.vwc { "on" } else { "off" }),
            format!("{}={:#x}", key("seed"), v.seed),
            format!("{}={}", key("create"), v.create.0),
            format!("{}={}", key("file"), v.file),
            format!("{}={}", key("lba"), v.lba),
            format!("{}={}", key("namespaces"), v.namespaces),
            format!("{} = {capacity}M", key("capacity")),
        ]
        .join(",");
        let cfg = SimConfig::from_params(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(cfg.mqes, v.mqes);
        prop_assert_eq!(cfg.max_io_queues, v.queues);
        prop_assert_eq!(cfg.mdts, v.mdts);
        prop_assert_eq!(cfg.msix_vectors, v.msix);
        prop_assert_eq!(&cfg.serial, &v.serial);
        prop_assert_eq!(cfg.volatile_write_cache, v.vwc);
        prop_assert_eq!(cfg.seed, v.seed);
        prop_assert_eq!(cfg.create, v.create.1);
        prop_assert_eq!(cfg.storage, Some(Storage::File(PathBuf::from(&v.file))));
        prop_assert!(cfg.explicit_layout);
        prop_assert_eq!(cfg.total_capacity, capacity << 20);
        prop_assert_eq!(cfg.namespaces.len(), v.namespaces);
        for ns in &cfg.namespaces {
            prop_assert_eq!(ns.lba_size, v.lba);
            prop_assert_eq!(ns.nlb, (v.mib_per_ns << 20) / u64::from(v.lba));
        }
    }
}
