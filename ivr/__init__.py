"""The NHSmail helpdesk phone companion for care homes in England."""
