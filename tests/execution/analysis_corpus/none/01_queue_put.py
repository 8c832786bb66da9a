# expect: none
import queue
q = queue.Queue()
q.put(1)
item = q.get()
