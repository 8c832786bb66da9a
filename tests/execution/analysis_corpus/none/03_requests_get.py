# expect: none
import requests
response = requests.get("https://example.org/status")
requests.put("https://example.org/api", json={"a": 1})
