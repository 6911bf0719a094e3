"""The booking systems' FHIR interface (issue 17 part 2): the region's other booking systems publish
their appointments (``Appointment`` create, update and cancel, upserted by business identifier, all
or nothing, refused with an OperationOutcome as the record import is) and read back what residents
did online (``Appointment?patient=…`` and the numbered change feed ``Appointment/_history``).

``reading`` checks a sent Appointment and turns it into booking.external.ExternalSent;
``resources`` renders the platform's rows as Appointments; ``api`` is the endpoints' work.
The rows and their rules live in booking (external.py, changes.py): "Mina bokningar" shows them.
"""

APPOINTMENT_TYPES = ("Appointment",)
# Published times residents may book on the platform (scheduling.py).
SCHEDULING_TYPES = ("Schedule", "Slot")
