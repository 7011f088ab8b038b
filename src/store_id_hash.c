/*-------------------------------------------------------------------------
 *
 * src/store_id_hash.c
 *	  Backend-local hash tables keyed by a store id's bytes (dynahash), for
 *	  the caches that remember something per store across calls: where a
 *	  store's row is (store_track.c) and a store's hours for the alerts
 *	  (alert_hours.c).
 *
 * An entry starts with an RmIdKey.  Looking up hashes and compares the
 * bytes as they are (a store id is compared byte for byte, semantics
 * §1.8), so a text datum is looked up without a copy; a new entry's key
 * bytes are copied into the table's memory context, which owns them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/hsearch.h"

#include "restmon.h"

static uint32
id_key_hash(const void *key, Size keysize pg_attribute_unused())
{
	const RmIdKey *k = key;

	return hash_bytes((const unsigned char *) k->id, k->len);
}

static int
id_key_match(const void *a, const void *b,
			 Size keysize pg_attribute_unused())
{
	const RmIdKey *x = a;
	const RmIdKey *y = b;

	return x->len == y->len && memcmp(x->id, y->id, x->len) == 0 ? 0 : 1;
}

/* an empty table of entries of entrysize bytes, in (and owned by) cxt */
HTAB *
rm_id_hash_create(const char *name, long nelem, Size entrysize,
				  MemoryContext cxt)
{
	HASHCTL		ctl;

	Assert(entrysize >= sizeof(RmIdKey));
	ctl.keysize = sizeof(RmIdKey);
	ctl.entrysize = entrysize;
	ctl.hash = id_key_hash;
	ctl.match = id_key_match;
	ctl.hcxt = cxt;
	return hash_create(name, nelem, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/* id's entry, or NULL */
void *
rm_id_hash_find(HTAB *htab, text *id)
{
	RmIdKey		key = {VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id)};

	return hash_search(htab, &key, HASH_FIND, NULL);
}

/*
 * id's entry, made when missing (*found false: everything after the key
 * is the caller's to set), its key then copied into cxt, the table's.
 */
void *
rm_id_hash_enter(HTAB *htab, MemoryContext cxt, text *id, bool *found)
{
	RmIdKey		key = {VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id)};
	RmIdKey    *e = hash_search(htab, &key, HASH_ENTER, found);

	if (!*found)
	{
		char	   *copy = MemoryContextAlloc(cxt, Max(key.len, 1));

		memcpy(copy, key.id, key.len);
		e->id = copy;
	}
	return e;
}
