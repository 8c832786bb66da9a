# expect: opaque
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"\x00" * 16, ("10.0.0.1", 5064))
