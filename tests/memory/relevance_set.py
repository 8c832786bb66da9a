"""A labelled relevance set for memory retrieval: control-room notes of five
operators, and questions each asked later, labelled with the note that
answers them. "lexical" questions share words (or a PV name / device code)
with their note; "paraphrase" questions share no content word with it.

Targets are written by hand; the distractors are composed from parts so
every user has a few hundred plausible notes around the ones that matter.
"""
import itertools

USERS = ["anna", "ben", "chen", "dora", "emil"]

# (note, question, kind)
TARGETS = [
    # --- lexical -----------------------------------------------------------------
    ("RF cavity 3 tuner sticks above 40 °C; back it off by hand", "cavity 3 tuner stuck again, what to do?", "lexical"),
    ("SR:RF:CAV3:TEMP reads 2 K low; trust the second probe", "is SR:RF:CAV3:TEMP reliable?", "lexical"),
    ("Vacuum gauge IG-07-2 reads high for a day after every bakeout", "IG-07-2 high reading", "lexical"),
    ("BPM 12 is noisy in the vertical plane since the cable swap", "BPM 12 vertical noise", "lexical"),
    ("Injector kicker 2 needs 30 seconds to settle after a restart", "how long does injector kicker 2 take to settle?", "lexical"),
    ("Booster extraction septum trips if the current ramps faster than 5 A/s", "booster septum trip ramp rate", "lexical"),
    ("Linac klystron 4 modulator fault clears only with a local reset", "klystron 4 modulator fault reset", "lexical"),
    ("Beamline 5 shutter interlock needs the hutch search twice after maintenance", "beamline 5 shutter interlock hutch search", "lexical"),
    ("Corrector SR:MAG:HCM14 saturates at 9.5 A, keep orbit feedback below that", "SR:MAG:HCM14 saturation current", "lexical"),
    ("The archiver drops samples from LI:RF:PHASE when the network switch in rack 12 is busy", "archiver missing LI:RF:PHASE samples", "lexical"),
    ("Cryoplant compressor 2 oil temperature alarm is set too tight at 55 °C", "cryoplant compressor 2 oil temperature alarm", "lexical"),
    ("Top-up injection pauses when the lifetime drops below 4 hours", "top-up pauses lifetime below 4 hours", "lexical"),
    ("Chiller CH-03 flow switch is flaky; tap it before declaring a fault", "CH-03 flow switch flaky", "lexical"),
    ("Sextupole family SF2 power supply PS-SF2 must be cycled three times after a trip", "cycle PS-SF2 after trip", "lexical"),
    ("Undulator U17 gap motor loses steps below 11 mm", "U17 gap motor losing steps", "lexical"),
    ("Timing system event 42 is reserved for the machine-protection dump", "what is timing event 42 used for?", "lexical"),
    ("Ion pump IP-22-4 current spikes whenever the wiggler closes", "IP-22-4 current spikes", "lexical"),
    ("Gun heater current must ramp at most 0.1 A per minute", "gun heater current ramp rate", "lexical"),
    ("Transfer line TL2 screen YAG-3 is cracked; use YAG-4 for beam position", "TL2 screen YAG-3 cracked", "lexical"),
    ("Fast orbit feedback FOFB crashes if BPM 7 is excluded", "FOFB crash BPM 7 excluded", "lexical"),
    ("Radiation monitor RM-11 gives false alarms during the morning calibration", "RM-11 false alarms", "lexical"),
    ("LLRF loop gain for cavity 1 is 0.8 after the firmware update", "LLRF loop gain cavity 1 firmware", "lexical"),
    ("Beam dump BD-1 water temperature limit is 35 °C", "BD-1 water temperature limit", "lexical"),
    ("Quadrupole Q5 in the booster has a shorted coil turn, field is 0.3% low", "booster quadrupole Q5 shorted coil", "lexical"),
    ("Kicker thyratron KT-2 must warm up for 15 minutes before HV", "KT-2 thyratron warm up", "lexical"),
    ("PSS door 4 magnetic lock sticks in humid weather", "PSS door 4 magnetic lock", "lexical"),
    ("Photon BPM on beamline 9 saturates above 200 mA stored current", "beamline 9 photon BPM saturates", "lexical"),
    ("Operator console OPI-3 freezes when more than 20 strip charts are open", "OPI-3 freezes strip charts", "lexical"),
    ("SR:VAC:GV12:STATUS shows open while the valve is closed; limit switch fault", "SR:VAC:GV12:STATUS wrong", "lexical"),
    ("Laser heater alignment drifts with hall temperature, recheck at 14:00", "laser heater alignment drift", "lexical"),
    ("Septum magnet cooling water pressure must stay above 4 bar", "septum cooling water pressure", "lexical"),
    ("Bunch-by-bunch feedback needs the attenuator at 10 dB for multibunch fill", "bunch-by-bunch feedback attenuator", "lexical"),
    ("RF amplifier SSA-2 module 14 is disabled; do not re-enable it", "SSA-2 module 14 disabled", "lexical"),
    ("Scraper SCR-H1 calibration offset is 1.2 mm", "SCR-H1 calibration offset", "lexical"),
    ("Front end FE-06 absorber thermocouple TC-3 is broken, ignore its reading", "FE-06 thermocouple TC-3 broken", "lexical"),
    ("Beam loss monitors in sector 8 need high voltage 1200 V", "sector 8 beam loss monitor high voltage", "lexical"),
    ("The dipole power supply ramp table is in /opt/ramp/dipole_v7.csv", "where is the dipole ramp table?", "lexical"),
    ("Cavity 2 coupler vacuum interlock trips at 5e-8 mbar", "cavity 2 coupler vacuum interlock", "lexical"),
    ("Electron gun GUN:HV:SETPT should not exceed 90 kV", "GUN:HV:SETPT maximum", "lexical"),
    ("Storage ring tune feedback must be off during chromaticity measurements", "tune feedback chromaticity measurement", "lexical"),
    ("Linac modulator M3 PFN voltage drifts 1% over a shift", "modulator M3 PFN voltage drift", "lexical"),
    ("Booster RF frequency is 499.654 MHz after the circumference correction", "booster RF frequency", "lexical"),
    ("Wire scanner WS-2 fork is bent; scan only in horizontal", "wire scanner WS-2 fork", "lexical"),
    ("Injection efficiency drops when the booster extraction bump exceeds 6 mm", "injection efficiency extraction bump", "lexical"),
    # --- paraphrase: no content word shared with the note ---------------------------
    ("RF cavity 3 tuner sticks above 40 °C", "why does the third resonator's tuning motor jam when it's hot?", "paraphrase"),
    ("Vacuum gauge readings go high for a day after every bakeout", "pressure sensors overreport following the heating of the chamber", "paraphrase"),
    ("The coffee machine on level 2 leaks water when descaled", "espresso maker upstairs drips after cleaning", "paraphrase"),
    ("Helium liquefier stops when the cooling tower fan fails", "cryogenic plant halts if the chiller blower breaks", "paraphrase"),
    ("Personnel safety system needs two people to search the tunnel", "access control requires a pair of staff to sweep the enclosure", "paraphrase"),
    ("The night shift must phone the duty physicist before changing the optics", "call the on-call scientist prior to adjusting the lattice after dark", "paraphrase"),
    ("Electron beam lifetime falls when the vacuum worsens", "particles circulate shorter once pressure rises", "paraphrase"),
    ("Power outage procedure: restart the cryoplant first, then magnets", "after a blackout which system comes back before the electromagnets?", "paraphrase"),
    ("Fire alarm in the klystron gallery is often triggered by dust", "smoke detector among the amplifier tubes goes off from particles of dirt", "paraphrase"),
    ("The control room printer runs out of toner every Monday", "office copier needs ink cartridge weekly at the week's start", "paraphrase"),
    ("Earthquake shutdown: dump the beam and close all valves", "seismic event response, discard stored electrons and shut the gates", "paraphrase"),
    ("Magnet cooling water leaks at the sector 4 manifold", "coolant dripping near the fourth arc's distribution pipe", "paraphrase"),
    ("Orbit drifts when the experimental hall door is open overnight", "beam path wanders if the user building entrance stays ajar after dark", "paraphrase"),
    ("The password for the safety database expires every ninety days", "credentials of the interlock records system lapse quarterly", "paraphrase"),
    ("New operators must shadow a senior for five shifts", "trainees accompany an experienced colleague during their first week of duty", "paraphrase"),
    ("Undulator gap cannot close while the beam current is above 300 mA", "insertion device jaws refuse to narrow at high stored intensity", "paraphrase"),
    ("Booster synchrotron magnets hum loudly at injection energy", "ramping ring electromagnets buzz noisily when particles enter", "paraphrase"),
    ("Emergency stop buttons are tested on the first Tuesday of each month", "panic switches get checked monthly early in the calendar", "paraphrase"),
    ("Beam position drifts after the air conditioning restarts", "orbit wanders once HVAC comes back on", "paraphrase"),
    ("Klystron cathode heater needs eight hours of conditioning after replacement", "new microwave tube filament requires a full shift of seasoning", "paraphrase"),
    ("Cable trays in sector 2 are full; no new cables can be pulled", "wiring ducts near the second arc have no room for more wires", "paraphrase"),
    ("Dosimetry badges must be worn inside the controlled area", "radiation film tags are mandatory within the supervised zone", "paraphrase"),
]

DEVICES = [
    "Quadrupole Q{n}", "Corrector HCM{n}", "BPM {n}", "Ion pump IP-{n:02d}-1", "Gauge IG-{n:02d}-3", "Valve GV{n}",
    "Sextupole S{n}", "Kicker K{n}", "Septum SEP{n}", "Chiller CH-{n:02d}", "Screen YAG-{n}", "Power supply PS-Q{n}",
    "Camera CAM-{n}", "Motor MOT-{n}", "Thermocouple TC-{n}", "Flow meter FM-{n}",
]
STATES = [
    "was replaced during the last shutdown", "shows a constant offset of {n} units", "needs recalibration before the next run",
    "is logged in the fault tracker as ticket {n}00", "had its firmware updated on Monday", "reads zero after a reboot",
    "is controlled from the new OPI since week {n}", "was checked by the vacuum group, no action needed",
    "must be kept below {n}0 % of its range", "has a spare in the store room shelf {n}",
    "alarm limits were widened by the expert", "is on loan to the test stand until further notice",
    "triggered twice during the night, no beam loss", "should be ignored in the morning checklist",
    "was cleaned and reinstalled", "is read out by the archiver every {n} seconds",
]


def distractors(per_user):
    """per_user notes for each user, different per user, none a target."""
    combos = list(itertools.product(range(len(DEVICES)), range(len(STATES))))
    notes = {}
    for u, user in enumerate(USERS):
        picked = combos[u::len(USERS)][:per_user]
        notes[user] = [
            f"{DEVICES[d].format(n=(d * 7 + s + u) % 40 + 1)} {STATES[s].format(n=(d + s + u) % 9 + 1)}"
            for d, s in picked
        ]
    return notes


def labelled_set(per_user=48):
    """(notes by user, [(user, question, target note, kind)])."""
    notes = distractors(per_user)
    queries = []
    for i, (note, question, kind) in enumerate(TARGETS):
        user = USERS[i % len(USERS)]
        notes[user].append(note)
        queries.append((user, question, note, kind))
    return notes, queries
