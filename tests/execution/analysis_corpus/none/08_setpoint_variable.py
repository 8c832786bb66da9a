# expect: none
setpoint = 4.2
setpoint_history = [setpoint * k for k in range(3)]
put_value = max(setpoint_history)
