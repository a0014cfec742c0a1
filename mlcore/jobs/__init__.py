"""Long work shown in the admin: the Job row, the task runner that keeps it honest, progress, bulk writes."""
