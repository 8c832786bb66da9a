# expect: read pvs=SR:EXEC:READ
exec("import epics; print(epics.caget('SR:EXEC:READ'))")
