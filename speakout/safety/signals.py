"""Signals of the safety app, sent inside the transaction that stored the reply.

pile_on_detected(sender=Reply, reply, target, count, minutes)
    ``reply`` is the first reply held by the pile-on brake in a burst aimed at one person:
    ``target`` is the reply of theirs it answers, ``count`` how many replies they received in the
    last ``minutes``. Sent once per person and window; the publishing app mails moderators.
"""

from django.dispatch import Signal

pile_on_detected = Signal()
