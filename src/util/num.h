/* num.h - rounding without libm.
 *
 * The few places that round (cpu in cores to millicores, whether a JSON
 * real is a whole number) do it on bounded values, and not linking libm
 * saves about a third of a megabyte of resident memory in every daemon:
 * a tenth of what an idle agent is allowed. */
#ifndef VARDE_NUM_H
#define VARDE_NUM_H

/* Every double at or beyond 2^52 in magnitude is a whole number. */
#define NUM_WHOLE_BEYOND 4503599627370496.0

/* X rounded half away from zero; NaN and infinities unchanged. */
static inline double num_round(double x)
{
    if (x != x || x >= NUM_WHOLE_BEYOND || x <= -NUM_WHOLE_BEYOND) {
        return x;
    }
    return (double)(long long)(x < 0 ? x - 0.5 : x + 0.5);
}

/* The largest whole number not above X; NaN and infinities unchanged. */
static inline double num_floor(double x)
{
    long long i;

    if (x != x || x >= NUM_WHOLE_BEYOND || x <= -NUM_WHOLE_BEYOND) {
        return x;
    }
    i = (long long)x;
    return (double)(i - (x < (double)i));
}

/* |X|. */
static inline double num_abs(double x)
{
    return x < 0 ? -x : x;
}

#endif
