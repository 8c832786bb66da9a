# expect: none
from collections import defaultdict, deque
d = defaultdict(list)
d["a"].append(1)
dq = deque([1, 2])
dq.appendleft(0)
print(d.get("a"), dq.pop())
