# expect: write pvs=SR:EVAL:LIT
eval("__import__('epics').caput('SR:EVAL:LIT', 1)")
