# expect: none
name = "SR:MAG:Q1:SETPT"
parts = name.split(":")
upper = "-".join(parts).lower()
print(upper.replace("q1", "q2"))
