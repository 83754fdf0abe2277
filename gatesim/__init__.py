"""gatesim: discrete-event simulation of cargo trucks through the Huu Nghi - Youyiguan smart border gate."""
