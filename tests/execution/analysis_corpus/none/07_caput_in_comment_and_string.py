# expect: none
# caput("SR:MAG:Q1:SETPT", 5.0)  <- do not do this
message = "never call caput('SR:X', 1) from here"
print(message)
doc = """epics.caput(name, value) writes a PV"""
