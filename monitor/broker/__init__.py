"""The broker's accounts: Mosquitto's password file and ACL from the directory (``callwatch acl``)."""
