# expect: none
import logging
log = logging.getLogger("agent")
log.info("would caput %s", "SR:X")
