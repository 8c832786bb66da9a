# expect: write pvs=SR:PTY
import pty
pty.spawn(["caput", "SR:PTY", "1"])
