// Multiplier for the suite's own waits (child-process deadlines, withTimeout). 1 natively;
// scripts/ci/linux-qemu.sh raises it because under QEMU user mode a child Node takes seconds to
// start, which is the emulator's cost and not the behaviour under test.
export const timeScale = Math.max(1, Number(process.env.DGRAMX_TEST_TIME_SCALE) || 1)
