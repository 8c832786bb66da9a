# expect: write pvs=SR:SPAWN
import os
os.spawnlp(os.P_WAIT, "caput", "caput", "SR:SPAWN", "1")
