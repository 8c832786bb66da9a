# expect: none
records = [{"name": "b", "v": 2}, {"name": "a", "v": 1}]
for record in sorted(records, key=lambda r: r["name"]):
    print(record.get("v"))
