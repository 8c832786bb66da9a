# expect: read pvs=SR:CLI:GET
import subprocess
out = subprocess.check_output(["caget", "-t", "SR:CLI:GET"], text=True)
