"""The care association's operators: console accounts (passwords, lock-out, sessions) and the audit log.

Its own room because both the `ivr console` commands and the console itself use it, and
nothing but the app may import the console.
"""
