# expect: none
import socket
print(socket.gethostname())
