"""The reliability suite: faults, load, pools, retries, hostile input, forged auth, migrations under load.

See tests/_report.py for the summary each test contributes to."""
