//! Commands Supported and Effects log page entries (log page 05h): one
//! dword per opcode saying whether the controller supports the command and
//! what it may change.

use crate::layout::bits;

bits! {
    /// One Commands Supported and Effects entry.
    pub struct CommandEffects: u32 {
        pub csupp: bool [1] "Command Supported.",
        pub lbcc: bool [1] "Logical Block Content Change.",
        pub ncc: bool [1] "Namespace Capability Change.",
        pub nic: bool [1] "Namespace Inventory Change.",
        pub ccc: bool [1] "Controller Capability Change.",
        __: u32 [11] "",
        pub cse: u8 [3] "Command Submission and Execution: 1 one command per namespace, 2 one per subsystem.",
        pub uss: bool [1] "UUID Selection Supported.",
        pub csp: u16 [12] "Command Scope.",
    }
}

impl CommandEffects {
    /// CSE: no more than one such command at a time per namespace.
    pub const CSE_SINGLE_PER_NAMESPACE: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_nvm_effects() {
        // Supported, changes content, capability and inventory, one at a time.
        let e = CommandEffects::new()
            .with_csupp(true)
            .with_lbcc(true)
            .with_ncc(true)
            .with_nic(true)
            .with_cse(CommandEffects::CSE_SINGLE_PER_NAMESPACE);
        assert_eq!(e.into_bits(), 0x0001_000F);
        assert!(CommandEffects::from_bits(0x11).ccc());
    }
}
