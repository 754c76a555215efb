"""A Ctrl-C whose KeyboardInterrupt is swallowed (raised inside a finaliser) is not lost."""

import gc
import os
import signal

import pytest

from dart import interrupts


class RaisesInFinaliser:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside __del__


def test_a_swallowed_interrupt_is_raised_at_the_next_check():
    previous = signal.getsignal(signal.SIGINT)
    interrupts.install()
    try:
        RaisesInFinaliser()
        gc.collect()  # "Exception ignored in ... __del__": the run would carry on
        with pytest.raises(KeyboardInterrupt):
            interrupts.raise_if_requested()
    finally:
        interrupts._requested.clear()
        signal.signal(signal.SIGINT, previous)


def test_no_interrupt_no_raise():
    interrupts.raise_if_requested()
