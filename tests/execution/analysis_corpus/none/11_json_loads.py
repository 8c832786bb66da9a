# expect: none
import json
data = json.loads('{"a": 1}')
text = json.dumps(data)
