-- sql/0.4.0/09-drop-trigger.sql: part of restmon 0.4.0's scripts
-- (Makefile), install only: the event trigger of 08-drop.sql's function.

CREATE EVENT TRIGGER restmon_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION restmon.before_drop_extension();
