/*-------------------------------------------------------------------------
 *
 * gateway/work.c
 *	  restmon-http's lane workers: the threads that make the database calls
 *	  that may wait, so that libmicrohttpd's pool threads never do.
 *
 * A lane of db.c (triggers, CSV pages, PostgREST calls, polls) has a queue
 * and as many worker threads as it has database connections: a worker
 * takes the oldest item, runs it (one call on a connection of the lane,
 * borrowed and given back) and takes the next.  An item is handed over by
 * a pool thread that suspended the connection it serves (server.c's
 * server_defer, api_seed.c's CSV stream); the item resumes it when done.
 * So a call that waits (a trigger behind `LOCK restmon.report`) holds a
 * worker of its lane and nothing else: the pool threads go on serving
 * health, status polls and cached CSVs.  Items live in what they concern
 * (a Request, a CSV stream): queueing allocates nothing.
 *
 * At the stop, work_stop() lets the workers run what is queued and exit;
 * an item submitted after that, or to a lane without workers (LANE_POLLS
 * without --poll-dsn), is run at once by the caller.  Either way every
 * item runs once, and every suspended connection is resumed before
 * libmicrohttpd is stopped.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway.h"

#define WORKER_STACK	(512 * 1024)

typedef struct WorkLane
{
	pthread_mutex_t lock;
	pthread_cond_t queued;
	WorkItem   *head;			/* oldest first */
	WorkItem   *tail;
	int			running;		/* workers alive */
	bool		stopping;
	pthread_t  *threads;
	int			nthreads;
} WorkLane;

static WorkLane work_lanes[DB_NLANES];

/* a worker: items of its lane, oldest first, until the stop */
static void *
worker_main(void *arg)
{
	WorkLane   *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;)
	{
		WorkItem   *w = l->head;

		if (w == NULL && l->stopping)
			break;
		if (w == NULL)
		{
			pthread_cond_wait(&l->queued, &l->lock);
			continue;
		}
		l->head = w->next;
		if (l->head == NULL)
			l->tail = NULL;
		pthread_mutex_unlock(&l->lock);
		w->fn(w->arg);
		pthread_mutex_lock(&l->lock);
	}
	l->running--;
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* workers for each lane that may wait (nworkers[lane], 0: none) */
bool
work_start(const int *nworkers)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (int i = 0; i < DB_NLANES; i++)
	{
		WorkLane   *l = &work_lanes[i];

		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->queued, NULL);
		if (nworkers[i] <= 0)
			continue;
		l->threads = calloc((size_t) nworkers[i], sizeof(pthread_t));
		if (l->threads == NULL)
			return false;
		for (int k = 0; k < nworkers[i]; k++)
		{
			if (pthread_create(&l->threads[k], &attr, worker_main, l) != 0)
				return false;
			l->nthreads++;
			l->running++;
		}
	}
	pthread_attr_destroy(&attr);
	return true;
}

/*
 * Run w on a worker of lane, in turn; or here and now if the lane has no
 * worker left (none started, or stopped).
 */
void
work_submit(DbLane lane, WorkItem *w)
{
	WorkLane   *l = &work_lanes[lane];

	w->next = NULL;
	pthread_mutex_lock(&l->lock);
	if (l->running > 0 && !l->stopping)
	{
		if (l->tail != NULL)
			l->tail->next = w;
		else
			l->head = w;
		l->tail = w;
		pthread_cond_signal(&l->queued);
		pthread_mutex_unlock(&l->lock);
		return;
	}
	pthread_mutex_unlock(&l->lock);
	w->fn(w->arg);
}

/* the workers run what is queued, then exit; joined here */
void
work_stop(void)
{
	for (int i = 0; i < DB_NLANES; i++)
	{
		WorkLane   *l = &work_lanes[i];

		pthread_mutex_lock(&l->lock);
		l->stopping = true;
		pthread_cond_broadcast(&l->queued);
		pthread_mutex_unlock(&l->lock);
	}
	for (int i = 0; i < DB_NLANES; i++)
	{
		for (int k = 0; k < work_lanes[i].nthreads; k++)
			pthread_join(work_lanes[i].threads[k], NULL);
		free(work_lanes[i].threads);
		work_lanes[i].threads = NULL;
		work_lanes[i].nthreads = 0;
	}
}
