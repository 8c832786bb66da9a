# expect: write pvs=SR:Q1:CONST
from epics import caput
PREFIX = "SR:Q1"
NAME = PREFIX + ":CONST"
caput(NAME, 1)
