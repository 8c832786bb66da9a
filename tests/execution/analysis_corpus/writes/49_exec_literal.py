# expect: write pvs=SR:EXEC:LIT
exec("from epics import caput; caput('SR:EXEC:LIT', 1)")
