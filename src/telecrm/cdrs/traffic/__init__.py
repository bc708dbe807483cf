"""Traffic figures: a month's calls, minutes, revenue, ASR and ACD per day, the top
destinations and accounts, and the calls that need attention, all from aggregate
queries (the dashboard and the customer portal's charts)."""
