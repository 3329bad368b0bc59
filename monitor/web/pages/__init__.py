"""The console's pages: the board, alerts, the directory, who is on call, reports, accounts."""
