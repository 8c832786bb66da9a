# expect: none
with open("notes.txt", "w") as handle:
    handle.write("caput SR:X 1\n")
