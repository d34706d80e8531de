"""The one exception type whose message is shown to the user as is."""


class HumanvidError(Exception):
    """A problem with the user's input or environment, explained in one line."""
