# expect: none
config = {"setpoint": 3}
value = config.get("setpoint", 0)
config.update({"x": 1})
