# expect: read pvs=SR:WRAP:READ
import epics


def read(name):
    return epics.caget(name, timeout=1)


print(read("SR:WRAP:READ"))
