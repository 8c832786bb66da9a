# expect: none
import datetime
now = datetime.datetime.now()
print(now.isoformat())
