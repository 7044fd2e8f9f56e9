"""Quarterly deployment ramp: the demand (:mod:`.demand`: the rack deployed, the racks wanted)
and a linear program over factory output, component supply, site power and commissioning lag
(:mod:`.plan_inputs`, :mod:`.model`, :mod:`.ramp`)."""
