"""The test harness: what the tiers share (engine emulation, processes, waiting, certificates)."""
